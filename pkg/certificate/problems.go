package certificate

import (
	"fmt"
	"sort"
	"strings"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// maxProblemsPerKey bounds the message of one errors[] entry; the rest are counted.
const maxProblemsPerKey = 3

// problemLog gathers what went wrong per data key, so errors[] has one
// entry per key however hostile the data is.
type problemLog struct {
	byKey map[string]*keyProblems
}

type keyProblems struct {
	messages []string
	more     int
}

// add records one problem; message must be a sentence free of Secret data.
func (p *problemLog) add(key, message string) {
	if p.byKey == nil {
		p.byKey = map[string]*keyProblems{}
	}
	entry := p.byKey[key]
	if entry == nil {
		entry = &keyProblems{}
		p.byKey[key] = entry
	}
	if len(entry.messages) < maxProblemsPerKey {
		entry.messages = append(entry.messages, message)
	} else {
		entry.more++
	}
}

// merge adds other's problems.
func (p *problemLog) merge(other *problemLog) {
	for key, entry := range other.byKey {
		for _, message := range entry.messages {
			p.add(key, message)
		}
	}
}

// dataErrors renders the log in key order.
func (p *problemLog) dataErrors() []certstatus.DataError {
	if len(p.byKey) == 0 {
		return nil
	}
	keys := make([]string, 0, len(p.byKey))
	for key := range p.byKey {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	errs := make([]certstatus.DataError, 0, len(keys))
	for _, key := range keys {
		entry := p.byKey[key]
		message := strings.Join(entry.messages, " ")
		if entry.more > 0 {
			message += fmt.Sprintf(" There are %d more problems like these.", entry.more)
		}
		errs = append(errs, certstatus.DataError{Key: key, Message: message})
	}
	return errs
}
