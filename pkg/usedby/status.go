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

// leafNamer is what certificate.Analysis offers to judge hosts, and
// creationDater the Secret's creationTimestamp, which dates HostsCovered.
type (
	leafNamer interface {
		LeafNames() (dnsNames, ipAddresses []string, ok bool)
	}
	creationDater interface {
		CreatedAt() time.Time
	}
)

func leafNamesOf(analysis statuscache.Analysis) (dnsNames, ipAddresses []string) {
	if leaf, ok := analysis.(leafNamer); ok {
		dnsNames, ipAddresses, _ = leaf.LeafNames()
	}
	return dnsNames, ipAddresses
}

func createdAtOf(analysis statuscache.Analysis) time.Time {
	if c, ok := analysis.(creationDater); ok {
		return c.CreatedAt()
	}
	return time.Time{}
}

// Decorated is a Secret's analysis with the snapshot of its users as they
// were when it was decorated: StatusAt adds status.usedBy and the
// HostsCovered condition to the analysis's status. Both are a pure
// function of the two, so they are built each time they are served rather
// than kept (≈ 300 B per Secret); the snapshot is kept by the index anyway
// while it is current.
type Decorated struct {
	statuscache.Analysis
	users *Users
}

// Decorate attaches a Secret's users to its analysis. Without users the
// analysis is returned unchanged.
func Decorate(analysis statuscache.Analysis, users *Users) statuscache.Analysis {
	if users.empty() {
		return analysis
	}
	return &Decorated{Analysis: analysis, users: users}
}

// judge is status.usedBy and the HostsCovered condition (Type "": none)
// for users (sorted as Users.list sorts them) of a Secret created at
// created whose leaf has these names, and how many hosts the leaf does not
// cover. HostsCovered dates from the latest creation among the Secret and
// the objects that decide its status (api.md, "Determinism"): every object
// declaring hosts when all are covered, those with an uncovered host
// otherwise.
func judge(dnsNames, ipAddresses []string, created time.Time, users []User) (usedBy []certstatus.UsedBy, hostsCovered metav1.Condition, notCovered int) {
	usedBy = make([]certstatus.UsedBy, len(users))
	var (
		declaring          int
		allAt, uncoveredAt = created, created
		firstUncovered     []string
	)
	for i := range users {
		u := &users[i]
		served := &usedBy[i]
		*served = certstatus.UsedBy{Kind: u.Kind, Namespace: u.Namespace, Name: u.Name, Hosts: u.Hosts, Pods: u.Pods, Webhooks: u.Webhooks}
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
			notCovered++
		}
		if len(served.HostsNotCovered) > 0 && u.Created.After(uncoveredAt) {
			uncoveredAt = u.Created
		}
	}
	switch {
	case declaring == 0:
		// Nothing declares hosts: no HostsCovered condition.
	case notCovered > 0:
		message := strings.Join(firstUncovered, "; ")
		if notCovered > len(firstUncovered) {
			message += fmt.Sprintf(" and %d more", notCovered-len(firstUncovered))
		}
		hostsCovered = metav1.Condition{
			Type:               certstatus.ConditionHostsCovered,
			Status:             metav1.ConditionFalse,
			Reason:             certstatus.ReasonHostNotCovered,
			Message:            fmt.Sprintf("The certificate does not cover %s: %s.", plural(notCovered, "host", "hosts"), message),
			LastTransitionTime: metav1.NewTime(uncoveredAt.UTC()),
		}
	default:
		hostsCovered = metav1.Condition{
			Type:               certstatus.ConditionHostsCovered,
			Status:             metav1.ConditionTrue,
			Reason:             certstatus.ReasonHostsCovered,
			Message:            coveredMessage(declaring),
			LastTransitionTime: metav1.NewTime(allAt.UTC()),
		}
	}
	return usedBy, hostsCovered, notCovered
}

// coveredMessage is HostsCovered=True's message. Nearly every Secret is
// served by one object: that message is one shared string, not one made
// each time the object is built.
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
	dnsNames, ipAddresses := leafNamesOf(d.Analysis)
	usedBy, hostsCovered, _ := judge(dnsNames, ipAddresses, createdAtOf(d.Analysis), d.users.list())
	status.UsedBy = usedBy
	if hostsCovered.Type != "" {
		// The analysis may share its slices: never append in place.
		status.Conditions = append(slices.Clip(status.Conditions), hostsCovered)
	}
	return status
}

// Used tells whether anything uses the Secret (certstatus_secret_used).
func (d *Decorated) Used() bool { return !d.users.empty() }

// Unwrap is the Secret's own analysis.
func (d *Decorated) Unwrap() statuscache.Analysis { return d.Analysis }

// HostsNotCovered counts the hosts of usedBy the leaf does not cover, as
// judge does, without building usedBy (metrics ask at every scrape).
func (d *Decorated) HostsNotCovered() int {
	dnsNames, ipAddresses := leafNamesOf(d.Analysis)
	n := 0
	for s := range d.users.served() {
		for host := range s.object.refs[s.ref].hosts.all() {
			if !Covers(dnsNames, ipAddresses, host) {
				n++
			}
		}
	}
	return n
}
