package postgres

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// ErrSchemaNotReady is returned (wrapped, naming the missing versions) by
// SchemaReady when the database lacks migrations that this binary knows.
var ErrSchemaNotReady = errors.New("postgres: schema not up to date")

// wrap prefixes a driver error with "postgres: op: ".
func wrap(op string, err error) error {
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// PostgreSQL error codes (SQLSTATE) this package tells apart.
const (
	codeUniqueViolation = "23505"
	codeUndefinedTable  = "42P01"
)

// isCode reports whether err is a PostgreSQL error with SQLSTATE code.
func isCode(err error, code string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == code
}

// redactedError is an error whose message has had a password cut out. It
// does not unwrap (the original's message holds the password), but
// errors.Is looks through it, so that context.DeadlineExceeded and the like
// are still recognised.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }

func (e *redactedError) Is(target error) bool { return errors.Is(e.err, target) }

// dsnPassword matches password=... in a key=value connection string.
var dsnPassword = regexp.MustCompile(`password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)`)

// redact returns err with every form of the password in connString
// (plain, URL-escaped, quoted) replaced by "xxxxx" in its message.
func redact(err error, connString string) error {
	var secrets []string
	if u, perr := url.Parse(connString); perr == nil && u.User != nil {
		if p, ok := u.User.Password(); ok {
			secrets = append(secrets, p)
		}
	}
	// A URL that url.Parse rejects: take what lies between "user:" and "@".
	if i := strings.Index(connString, "://"); i >= 0 {
		rest := connString[i+3:]
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if c := strings.Index(rest[:at], ":"); c >= 0 {
				p := rest[c+1 : at]
				secrets = append(secrets, p)
				if d, derr := url.PathUnescape(p); derr == nil {
					secrets = append(secrets, d)
				}
			}
		}
	}
	for _, m := range dsnPassword.FindAllStringSubmatch(connString, -1) {
		secrets = append(secrets, m[1], strings.Trim(m[1], "'"))
	}
	orig := err.Error()
	msg := orig
	for _, s := range secrets {
		if s == "" {
			continue
		}
		msg = strings.ReplaceAll(msg, s, "xxxxx")
		msg = strings.ReplaceAll(msg, url.QueryEscape(s), "xxxxx")
		msg = strings.ReplaceAll(msg, url.PathEscape(s), "xxxxx")
	}
	if msg == orig {
		return err
	}
	return &redactedError{msg: msg, err: err}
}
