// Package basic checks HTTP basic-auth credentials against an htpasswd file
// (--basic-auth-file). It implements auth.BasicStore.
//
// # The file
//
// One user per line, "user:hash". Lines whose first non-blank character is
// '#' and blank lines are ignored. A user appears once; a second line for
// the same user is an error.
//
//   - bcrypt entries ($2y$, $2a$, $2b$), as `htpasswd -B -C 10 FILE USER`
//     writes them, are the format to use.
//   - micro-gw 3.x kept SHA-1 hex digests of passwords
//     ([b7a.users.<name>] password = "<sha1>"). To migrate them, write
//     "user:{SHA1HEX}<40 hex digits>". The marker is required: a bare
//     40-hex-digit value is refused, because it cannot be told apart from a
//     plaintext password. Unsalted SHA-1 is weak, so every load that has
//     such users logs one warning naming them (never their hashes).
//   - Everything else is refused with an error naming file:line and the
//     user: plaintext, crypt(3) DES, $apr1$ and $1$ MD5, $5$ and $6$ SHA-crypt,
//     and Apache's {SHA}. The error says how to make a bcrypt entry and
//     never repeats the refused value, which may be a password.
//
// # Reloads
//
// Store.Run polls the file's size, modification time and identity (a file
// replaced by rename is a new file) every Options.Interval, one second by
// default, and reloads it when any of them changes. A file that fails to
// load is logged once per change and the users of the last good load stay
// in force.
//
// # Timing and cost
//
// bcrypt compares in time that depends only on the hash's cost. A user
// that does not exist, and a SHA-1 user whose password is wrong, are
// compared against a dummy bcrypt hash of the highest cost in the file, so the
// time of a refusal does not tell whether the user exists. SHA-1 digests are
// compared with crypto/subtle.
//
// bcrypt at cost 10 costs tens of milliseconds of CPU. Successful bcrypt
// checks are remembered in a bounded cache keyed by a keyed SHA-256 of the
// user and password (the key is random per load, so the cache holds nothing
// an attacker could brute-force offline faster than bcrypt). Each load
// starts with an empty cache, so a changed password or a removed user
// takes effect with the reload. A cache hit allocates nothing.
package basic
