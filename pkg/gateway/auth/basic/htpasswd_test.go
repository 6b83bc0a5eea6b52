package basic

import (
	"crypto/sha1"
	"encoding/hex"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// hashOf makes a bcrypt hash at the lowest cost (tests stay fast) with the
// given version prefix ("$2a$", "$2b$" or "$2y$").
func hashOf(t testing.TB, password, prefix string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return prefix + string(h[4:])
}

func sha1Hex(password string) string {
	sum := sha1.Sum([]byte(password))
	return hex.EncodeToString(sum[:])
}

func TestParseAcceptsBcryptVariantsCommentsAndBlankLines(t *testing.T) {
	file := "# users of the petstore\n\n" +
		"alice:" + hashOf(t, "a-pass", "$2y$") + "\r\n" +
		"  # indented comment\n" +
		"bob:" + hashOf(t, "b-pass", "$2a$") + "\n" +
		"carol:" + hashOf(t, "c-pass", "$2b$") + "\n" +
		"dave:{SHA1HEX}" + strings.ToUpper(sha1Hex("d-pass")) + "\n"
	u, err := parse("users.htpasswd", []byte(file))
	if err != nil {
		t.Fatal(err)
	}
	if len(u.byName) != 4 {
		t.Fatalf("users = %d, want 4", len(u.byName))
	}
	for _, name := range []string{"alice", "bob", "carol"} {
		e := u.byName[name]
		if e == nil || e.legacy || bcrypt.CompareHashAndPassword(e.bcrypt, []byte(name[:1]+"-pass")) != nil {
			t.Errorf("%s: entry %+v does not check its password", name, e)
		}
		if e != nil && (e.principal.Subject != name || e.principal.ID != name || e.principal.KeyType != "PRODUCTION") {
			t.Errorf("%s: principal %+v", name, e.principal)
		}
	}
	if d := u.byName["dave"]; d == nil || !d.legacy || d.sha1 != sha1.Sum([]byte("d-pass")) {
		t.Errorf("dave: entry %+v is not the SHA-1 of d-pass", d)
	}
	if len(u.legacy) != 1 || u.legacy[0] != "dave" {
		t.Errorf("legacy = %v, want [dave]", u.legacy)
	}
}

// TestParseRefusesWeakEntriesWithoutRepeatingThem protects the rule that
// only bcrypt (and marked SHA-1) entries load, and that the error names the
// line and how to fix it but never the refused value, which may be a
// password.
func TestParseRefusesWeakEntriesWithoutRepeatingThem(t *testing.T) {
	good := hashOf(t, "x", "$2y$")
	cases := []struct{ name, value, want string }{
		{"plaintext", "Sup3r-s3cret!", "plaintext"},
		{"crypt DES", "rLu5h0.qYsNjE", "crypt(3) DES"},
		{"apr1", "$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/", "$apr1$"},
		{"md5 crypt", "$1$saltsalt$2vnaRpHa6Jxjz5n83ok8Z0", "MD5-crypt"},
		{"sha512 crypt", "$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/", "SHA-crypt"},
		{"apache SHA", "{SHA}qvTGHdzF6KLavt4PO0gs2a6pQ00=", "{SHA}"},
		{"bare SHA-1 hex", sha1Hex("secret"), "user:{SHA1HEX}<hex>"},
		{"short SHA1HEX", "{SHA1HEX}" + sha1Hex("secret")[:39], "exactly 40 hex digits"},
		{"SHA1HEX not hex", "{SHA1HEX}" + strings.Repeat("z", 40), "exactly 40 hex digits"},
		{"truncated bcrypt", good[:59], "malformed bcrypt hash"},
		{"bcrypt bad cost", good[:4] + "99" + good[6:], "cost 99"},
		{"bcrypt bad alphabet", good[:40] + "!" + good[41:], "alphabet"},
		{"unknown scheme", "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", "unknown hash scheme"},
		{"empty", "", "empty password hash"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := "# header\nok:" + good + "\nmallory:" + c.value + "\n"
			_, err := parse("conf/users.htpasswd", []byte(file))
			if err == nil {
				t.Fatal("loaded")
			}
			msg := err.Error()
			for _, want := range []string{"conf/users.htpasswd:3:", `user "mallory"`, c.want, "htpasswd -B"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q lacks %q", msg, want)
				}
			}
			if len(c.value) > 4 && strings.Contains(msg, c.value) {
				t.Errorf("error %q repeats the refused value", msg)
			}
		})
	}
}

func TestParseRefusesLineWithoutColonWithoutRepeatingIt(t *testing.T) {
	_, err := parse("users", []byte("alice-password-line\n"))
	if err == nil || !strings.Contains(err.Error(), "users:1:") || strings.Contains(err.Error(), "alice-password-line") {
		t.Fatalf("err = %v, want users:1 without the line's text", err)
	}
	if _, err := parse("users", []byte(":"+hashOf(t, "x", "$2y$")+"\n")); err == nil || !strings.Contains(err.Error(), "users:1:") {
		t.Fatalf("empty user: err = %v", err)
	}
}

func TestParseRefusesDuplicateUsers(t *testing.T) {
	file := "alice:" + hashOf(t, "a", "$2y$") + "\nbob:" + hashOf(t, "b", "$2y$") + "\nalice:" + hashOf(t, "c", "$2y$") + "\n"
	_, err := parse("users", []byte(file))
	if err == nil || !strings.Contains(err.Error(), `users:3: user "alice" is already on line 1`) {
		t.Fatalf("err = %v", err)
	}
}

func TestParseReportsEveryBadLine(t *testing.T) {
	_, err := parse("users", []byte("a:plain\nb:"+hashOf(t, "b", "$2y$")+"\nc:$apr1$x$y\n"))
	if err == nil || !strings.Contains(err.Error(), "users:1:") || !strings.Contains(err.Error(), "users:3:") {
		t.Fatalf("err = %v, want lines 1 and 3", err)
	}
}

func TestParseDummyCostIsTheFilesHighest(t *testing.T) {
	h, err := bcrypt.GenerateFromPassword([]byte("x"), bcrypt.MinCost+1)
	if err != nil {
		t.Fatal(err)
	}
	u, err := parse("users", []byte("a:"+hashOf(t, "a", "$2y$")+"\nb:"+string(h)+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if u.maxCost != bcrypt.MinCost+1 {
		t.Fatalf("maxCost = %d, want %d", u.maxCost, bcrypt.MinCost+1)
	}
	if u, _ := parse("users", []byte("a:"+hashOf(t, "a", "$2y$")+"\n")); u.maxCost != bcrypt.MinCost {
		t.Fatalf("maxCost = %d, want the entries' %d", u.maxCost, bcrypt.MinCost)
	}
	if u, _ := parse("users", []byte("a:{SHA1HEX}"+sha1Hex("a")+"\n")); u.maxCost != bcrypt.DefaultCost {
		t.Fatalf("maxCost = %d, want the default %d without bcrypt entries", u.maxCost, bcrypt.DefaultCost)
	}
}

// FuzzParseHtpasswd checks that any file parses or fails without panic, and
// that what loads checks its users' passwords the way it read them.
func FuzzParseHtpasswd(f *testing.F) {
	f.Add([]byte("alice:$2y$04$abcdefghijklmnopqrstuu5Jd3YFwV6tMnd4eGuHkHkC2y8TxOiXm\n"))
	f.Add([]byte("# c\n\nbob:{SHA1HEX}" + sha1Hex("x") + "\r\n"))
	f.Add([]byte("a:b:c\n:x\nz"))
	f.Add([]byte("u:$apr1$x$y\nu:{SHA}abc\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		u, err := parse("f", data)
		if err != nil {
			if u != nil {
				t.Fatal("users and an error")
			}
			return
		}
		for name, e := range u.byName {
			if name == "" || strings.ContainsAny(name, ":\n") {
				t.Fatalf("user %q", name)
			}
			if !e.legacy {
				if _, err := bcrypt.Cost(e.bcrypt); err != nil || len(e.bcrypt) != 60 {
					t.Fatalf("user %q: bcrypt entry %q loaded: %v", name, e.bcrypt, err)
				}
			}
			if e.principal == nil || e.principal.Subject != name {
				t.Fatalf("user %q: principal %+v", name, e.principal)
			}
		}
	})
}
