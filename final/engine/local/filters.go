//go:build linux

package local

import (
	"regexp"
	"strings"

	"github.com/minidocker/build-your-own-docker/final/engine"
)

// filter is a list's --filter: keys ANDed, the values of one key ORed, as
// Docker does (`ps --filter label=a --filter label=b` needs both labels:
// label is the exception, every value must match).
type filter map[string][]string

// newFilter checks the keys against the ones a list knows (an unknown key
// is a 400, as Docker answers).
func newFilter(f map[string][]string, allowed ...string) (filter, error) {
	ok := map[string]bool{}
	for _, a := range allowed {
		ok[a] = true
	}
	for k := range f {
		if !ok[k] {
			return nil, engine.Errorf(engine.ErrInvalid, "invalid filter '%s'", k)
		}
	}
	return filter(f), nil
}

// match: no values for key, or one equal to value.
func (f filter) match(key, value string) bool {
	vs := f[key]
	if len(vs) == 0 {
		return true
	}
	for _, v := range vs {
		if v == value {
			return true
		}
	}
	return false
}

// matchAny: match against any of values (an id or a name).
func (f filter) matchAny(key string, values ...string) bool {
	if len(f[key]) == 0 {
		return true
	}
	for _, v := range values {
		if f.match(key, v) {
			return true
		}
	}
	return false
}

// prefix: a value that is a prefix of s (id=abc).
func (f filter) prefix(key, s string) bool {
	vs := f[key]
	if len(vs) == 0 {
		return true
	}
	for _, v := range vs {
		if strings.HasPrefix(s, v) {
			return true
		}
	}
	return false
}

// regexp: a value that, as a regular expression, matches name or "/name"
// (name=web, name=^web$, name=^/web$ all find "web").
func (f filter) regexp(key, name string) bool {
	vs := f[key]
	if len(vs) == 0 {
		return true
	}
	for _, v := range vs {
		re, err := regexp.Compile(v)
		if err == nil && (re.MatchString(name) || re.MatchString("/"+name)) {
			return true
		}
	}
	return false
}

// labels: every label=k or label=k=v is there (ANDed).
func (f filter) labels(labels map[string]string) bool {
	for _, want := range f["label"] {
		k, v, hasValue := strings.Cut(want, "=")
		got, ok := labels[k]
		if !ok || (hasValue && got != v) {
			return false
		}
	}
	return true
}
