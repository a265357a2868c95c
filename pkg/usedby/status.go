package usedby

import (
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/statuscache"
)

// leafNamer is what certificate.Analysis offers to judge hosts.
type leafNamer interface {
	LeafNames() (dnsNames, ipAddresses []string, ok bool)
}

// Decorated is a Secret's analysis with its users attached: StatusAt adds
// status.usedBy and the HostsCovered condition to the analysis's status.
// Both are computed once, when the users or the Secret change, since they
// do not depend on the clock.
type Decorated struct {
	statuscache.Analysis
	usedBy       []certstatus.UsedBy
	hostsCovered *metav1.Condition
	notCovered   int
}

// Decorate attaches users to a Secret's analysis; created is the Secret's
// creationTimestamp. Without users the analysis is returned unchanged.
func Decorate(analysis statuscache.Analysis, created time.Time, users []User) statuscache.Analysis {
	if len(users) == 0 {
		return analysis
	}
	var dnsNames, ipAddresses []string
	if leaf, ok := analysis.(leafNamer); ok {
		dnsNames, ipAddresses, _ = leaf.LeafNames()
	}
	d := &Decorated{Analysis: analysis, usedBy: make([]certstatus.UsedBy, len(users))}
	var (
		declaring, uncovered int
		allAt, uncoveredAt   = created, created
		firstUncovered       []string
	)
	for i := range users {
		u := &users[i]
		served := &d.usedBy[i]
		*served = certstatus.UsedBy{Kind: u.Kind, Namespace: u.Namespace, Name: u.Name, Hosts: u.Hosts, Pods: u.Pods}
		if len(u.Hosts) == 0 {
			continue
		}
		declaring++
		if u.Created.After(allAt) {
			allAt = u.Created
		}
		for _, host := range u.Hosts {
			if Covers(dnsNames, ipAddresses, host) {
				continue
			}
			served.HostsNotCovered = append(served.HostsNotCovered, host)
			if len(firstUncovered) < 3 {
				firstUncovered = append(firstUncovered, fmt.Sprintf("%s %s/%s serves %s", u.Kind, u.Namespace, u.Name, host))
			}
			uncovered++
		}
		if len(served.HostsNotCovered) > 0 && u.Created.After(uncoveredAt) {
			uncoveredAt = u.Created
		}
	}
	d.notCovered = uncovered
	switch {
	case declaring == 0:
		// Nothing declares hosts: no HostsCovered condition.
	case uncovered > 0:
		message := strings.Join(firstUncovered, "; ")
		if uncovered > len(firstUncovered) {
			message += fmt.Sprintf(" and %d more", uncovered-len(firstUncovered))
		}
		d.hostsCovered = &metav1.Condition{
			Type:               certstatus.ConditionHostsCovered,
			Status:             metav1.ConditionFalse,
			Reason:             certstatus.ReasonHostNotCovered,
			Message:            fmt.Sprintf("The certificate does not cover %s: %s.", plural(uncovered, "host", "hosts"), message),
			LastTransitionTime: metav1.NewTime(uncoveredAt.UTC()),
		}
	default:
		d.hostsCovered = &metav1.Condition{
			Type:               certstatus.ConditionHostsCovered,
			Status:             metav1.ConditionTrue,
			Reason:             certstatus.ReasonHostsCovered,
			Message:            coveredMessage(declaring),
			LastTransitionTime: metav1.NewTime(allAt.UTC()),
		}
	}
	return d
}

// coveredMessage is HostsCovered=True's message. Nearly every Secret is
// served by one object: that message is one shared string, not a copy in
// each decorated analysis the watch history keeps (64 B each).
func coveredMessage(declaring int) string {
	if declaring == 1 {
		return coveredByOne
	}
	return fmt.Sprintf("The certificate covers every host of the %s that serve it.", plural(declaring, "object", "objects"))
}

var coveredByOne = fmt.Sprintf("The certificate covers every host of the %s that serve it.", plural(1, "object", "objects"))

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// StatusAt is the analysis's status with usedBy and HostsCovered.
func (d *Decorated) StatusAt(now time.Time) certstatus.CertificateStatusStatus {
	status := d.Analysis.StatusAt(now)
	status.UsedBy = d.usedBy
	if d.hostsCovered != nil {
		// The analysis may share its slices: never append in place.
		status.Conditions = append(slices.Clip(status.Conditions), *d.hostsCovered)
	}
	return status
}

// Unwrap is the Secret's own analysis.
func (d *Decorated) Unwrap() statuscache.Analysis { return d.Analysis }

// HostsNotCovered counts the hosts of usedBy the leaf does not cover.
func (d *Decorated) HostsNotCovered() int { return d.notCovered }
