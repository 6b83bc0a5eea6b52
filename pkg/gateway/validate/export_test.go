package validate

// MaxDescription is maxDescription, for the external tests.
const MaxDescription = maxDescription

// ReadsBody reports whether v reads the request body, for the external tests.
func (v *Validator) ReadsBody() bool { return v.readBody }
