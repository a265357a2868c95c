package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/certstatus/certstatus/hack/internal/measure"
	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/certificate"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

// Issue 25 part 6: what locked keystores (PKCS#12 whose password certstatus
// is not given, so every candidate password is tried) cost.
const (
	// lockedKeystores is how many are added to the N Secrets.
	lockedKeystores = 100
	// keystoreNamespace holds them, apart from the bench namespaces.
	keystoreNamespace = "bench-keystores"
	// jdkIterations is keytool's (and OpenSSL 3's) PBKDF2 and MAC
	// iteration count for PKCS#12 (keystore.pkcs12.*IterationCount).
	jdkIterations = 10000
	// keystoreCPUTarget is the CPU one locked keystore may cost.
	keystoreCPUTarget = 25 * time.Millisecond
	// keystoreGrowthTarget bounds what lockedKeystores add to Available.
	keystoreGrowthTarget = time.Second
	// keystoreBenchmark is the Go benchmark of one locked keystore.
	keystoreBenchmark = "BenchmarkLockedKeystoreJDKDefaults"
	// keystorePasswordSecret is the labelled password Secret the locked
	// keystores name, holding a wrong password too.
	keystorePasswordSecret = "keystore-passwords"
)

// jdkDefaults encodes PKCS#12 as keytool and openssl pkcs12 -export do by
// default: PBES2 (PBKDF2-HMAC-SHA-256, AES-256-CBC) for keys and
// certificates, an HMAC-SHA-256 MAC, 10 000 iterations each.
var jdkDefaults = pkcs12.Modern2023.WithIterations(jdkIterations)

// keystoreFigure is the issue 25 part 6 figure.
type keystoreFigure struct {
	// PerKeystore is the Go benchmark's time per locked keystore analysed
	// (one goroutine: its CPU), BenchCommand how it was run.
	PerKeystore  time.Duration `json:"perKeystore"`
	BenchCommand string        `json:"benchCommand"`
	BenchError   string        `json:"benchError,omitempty"`
	// InProcess* is the same analysis of the start-up's keystores in the
	// bench process, four passwords tried (the Go benchmark tries three:
	// the annotated key's, "" and changeit), per keystore.
	InProcessWall time.Duration `json:"inProcessWall"`
	InProcessCPU  time.Duration `json:"inProcessCPU"`
	// Keystores is how many locked keystores the Locked start-ups had
	// among the N Secrets; Plain start-ups had none. Restarts alternate.
	Keystores int            `json:"keystores"`
	Plain     startupWithCPU `json:"plain"`
	Locked    startupWithCPU `json:"locked"`
	Growth    keystoreGrowth `json:"growth"`
}

// startupWithCPU is wall time and certstatus's CPU time (user + system)
// from just before its process starts until it is Available.
type startupWithCPU struct {
	Available stats `json:"available"`
	CPU       stats `json:"cpu"`
}

// keystoreGrowth is what the keystores added, median against median.
type keystoreGrowth struct {
	Available time.Duration `json:"available"`
	CPU       time.Duration `json:"cpu"`
}

func growthOf(plain, locked startupWithCPU) keystoreGrowth {
	return keystoreGrowth{Available: locked.Available.Median - plain.Available.Median, CPU: locked.CPU.Median - plain.CPU.Median}
}

// met: both growths within the target.
func (g keystoreGrowth) met() bool {
	return g.Available <= keystoreGrowthTarget && g.CPU <= keystoreGrowthTarget
}

// parseBenchTime finds name's ns/op in `go test -bench` output (with or
// without its -GOMAXPROCS suffix).
func parseBenchTime(output []byte, name string) (time.Duration, error) {
	sc := bufio.NewScanner(bytes.NewReader(output))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 {
			continue
		}
		if n, _, _ := strings.Cut(fields[0], "-"); n != name {
			continue
		}
		for i := 2; i+1 < len(fields); i++ {
			if fields[i+1] == "ns/op" {
				ns, err := strconv.ParseFloat(fields[i], 64)
				if err != nil {
					return 0, fmt.Errorf("%s: ns/op %q: %w", name, fields[i], err)
				}
				return time.Duration(ns), nil
			}
		}
	}
	return 0, fmt.Errorf("no ns/op for %s in the benchmark output", name)
}

// lockedKeystoreBenchmark runs the Go benchmark in pkg/certificate, on one
// CPU so that its time per operation is CPU time.
func lockedKeystoreBenchmark(ctx context.Context) (time.Duration, string, error) {
	args := []string{"test", "-run", "^$", "-bench", "^" + keystoreBenchmark + "$", "-benchtime", "40x", "-count", "1", "-cpu", "1", "./pkg/certificate/"}
	cmd := exec.CommandContext(ctx, "go", args...)
	command := "go " + strings.Join(args, " ")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, command, fmt.Errorf("%s: %w\n%s", command, err, out)
	}
	d, err := parseBenchTime(out, keystoreBenchmark)
	return d, command, err
}

// lockedKeystoreSecrets are n Opaque Secrets each holding a keystore.p12
// written with JDK defaults under a random password nobody is told, and
// annotated to take their password from a data key and from a labelled
// password Secret that both hold wrong ones: certstatus tries those, then
// "" and "changeit" (four, the most it tries), and reports them Unknown.
func lockedKeystoreSecrets(n int, now time.Time) ([]*corev1.Secret, error) {
	ca, err := certtest.NewCA(certtest.Spec{Subject: pkix.Name{CommonName: "bench keystores CA"}})
	if err != nil {
		return nil, err
	}
	secrets := make([]*corev1.Secret, n)
	for i := range secrets {
		name := fmt.Sprintf("locked-keystore-%03d", i)
		leaf, err := ca.NewLeaf(certtest.Spec{CommonName: name + ".example.com", NotBefore: now.Add(-day), NotAfter: now.Add(90 * day)})
		if err != nil {
			return nil, err
		}
		password := make([]byte, 16)
		if _, err := rand.Read(password); err != nil {
			return nil, err
		}
		store, err := jdkDefaults.Encode(leaf.Key, leaf.Certificate, []*x509.Certificate{ca.Certificate}, hex.EncodeToString(password))
		if err != nil {
			return nil, err
		}
		secrets[i] = &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{
				Name: name, Namespace: keystoreNamespace,
				Labels: map[string]string{"app.kubernetes.io/part-of": "certstatus-bench", "bench/kind": "locked-keystore"},
				Annotations: map[string]string{
					certstatus.KeystorePasswordKeyAnnotation:    "password",
					certstatus.KeystorePasswordSecretAnnotation: keystorePasswordSecret + "/password",
				},
			},
			Type: corev1.SecretTypeOpaque,
			Data: map[string][]byte{"keystore.p12": store, "password": []byte("not-the-password")},
		}
	}
	return secrets, nil
}

// passwordSecret is the labelled password Secret the keystores name.
func passwordSecret() *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: keystorePasswordSecret, Namespace: keystoreNamespace, Labels: map[string]string{certstatus.KeystorePasswordLabel: "true"}},
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{"password": []byte("not-the-password-either")},
	}
}

// analyseLocked analyses each of secrets once, on this goroutine, as the
// server would (the password Secret answered), and returns the wall time
// and this process's CPU time (user + system) per Secret. Every keystore
// is distinct, so the cache never answers.
func analyseLocked(secrets []*corev1.Secret) (wall, cpu time.Duration, err error) {
	fromSecret := func(string, string) ([]byte, error) { return passwordSecret().Data["password"], nil }
	cpu0, err := measure.CPU(os.Getpid())
	if err != nil {
		return 0, 0, err
	}
	begin := time.Now()
	for _, s := range secrets {
		in := certificate.Input{Type: string(s.Type), Data: s.Data, Annotations: s.Annotations, CreatedAt: s.CreationTimestamp.Time, PasswordFromSecret: fromSecret}
		if _, listed := certificate.Analyze(in, certificate.DefaultOptions()); !listed {
			return 0, 0, fmt.Errorf("%s: not listed", s.Name)
		}
	}
	wall = time.Since(begin)
	cpu1, err := measure.CPU(os.Getpid())
	if err != nil {
		return 0, 0, err
	}
	n := time.Duration(max(len(secrets), 1))
	return wall / n, (cpu1 - cpu0) / n, nil
}

// keystores is the issue 25 part 6 figure: the Go benchmark of one locked
// keystore, then start-ups alternately without and with lockedKeystores
// locked keystores among the N Secrets, timed to Available with
// certstatus's CPU time at that moment.
func (b *bench) keystores(ctx context.Context) error {
	fig := &keystoreFigure{Keystores: lockedKeystores}
	b.res.Keystores = fig
	var err error
	if fig.PerKeystore, fig.BenchCommand, err = lockedKeystoreBenchmark(ctx); err != nil {
		fig.BenchError = err.Error()
		logf("locked keystore benchmark: %v", err)
	} else {
		logf("one locked keystore (JDK defaults, every password tried): %v of CPU", fig.PerKeystore.Round(10*time.Microsecond))
	}
	secrets, err := lockedKeystoreSecrets(lockedKeystores, time.Now())
	if err != nil {
		return err
	}
	if fig.InProcessWall, fig.InProcessCPU, err = analyseLocked(secrets); err != nil {
		return err
	}
	logf("one locked keystore analysed in this process, four passwords tried: %v wall, %v CPU", fig.InProcessWall.Round(10*time.Microsecond), fig.InProcessCPU.Round(10*time.Microsecond))
	p, err := b.newStartupProbes()
	if err != nil {
		return err
	}
	if err := ensureNamespace(ctx, b.kube, keystoreNamespace); err != nil {
		return err
	}
	if _, err := b.kube.CoreV1().Secrets(keystoreNamespace).Create(ctx, passwordSecret(), metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	var plainWall, plainCPU, lockedWall, lockedCPU []time.Duration
	for i := range b.o.startups {
		wall, cpu, err := b.timedStartup(ctx, p)
		if err != nil {
			return fmt.Errorf("start-up %d without keystores: %w", i, err)
		}
		plainWall, plainCPU = append(plainWall, wall), append(plainCPU, cpu)
		logf("start-up %d, %d Secrets: Available after %v, certstatus CPU %v", i, b.o.secrets, wall.Round(time.Millisecond), cpu.Round(time.Millisecond))

		if err := parallelN(ctx, 16, len(secrets), func(j int) error {
			_, err := b.kube.CoreV1().Secrets(keystoreNamespace).Create(ctx, secrets[j], metav1.CreateOptions{})
			return err
		}); err != nil {
			return fmt.Errorf("create locked keystores: %w", err)
		}
		if err := b.waitListed(ctx, b.o.secrets+lockedKeystores); err != nil {
			return err
		}
		if wall, cpu, err = b.timedStartup(ctx, p); err != nil {
			return fmt.Errorf("start-up %d with keystores: %w", i, err)
		}
		lockedWall, lockedCPU = append(lockedWall, wall), append(lockedCPU, cpu)
		logf("start-up %d, %d Secrets + %d locked keystores: Available after %v, certstatus CPU %v", i, b.o.secrets, lockedKeystores, wall.Round(time.Millisecond), cpu.Round(time.Millisecond))
		if err := b.kube.CoreV1().Secrets(keystoreNamespace).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: "bench/kind=locked-keystore"}); err != nil {
			return fmt.Errorf("delete locked keystores: %w", err)
		}
		if err := b.waitListed(ctx, b.o.secrets); err != nil {
			return err
		}
	}
	fig.Plain = startupWithCPU{Available: summarize(plainWall), CPU: summarize(plainCPU)}
	fig.Locked = startupWithCPU{Available: summarize(lockedWall), CPU: summarize(lockedCPU)}
	fig.Growth = growthOf(fig.Plain, fig.Locked)
	logf("%d locked keystores add %v to Available and %v of certstatus CPU (medians)", lockedKeystores, fig.Growth.Available.Round(time.Millisecond), fig.Growth.CPU.Round(time.Millisecond))
	return nil
}

// timedStartup stops certstatus, starts it again and returns the time
// until the APIService is Available and a list through kube-apiserver
// answers 200, with certstatus's CPU time (user + system) at that moment.
func (b *bench) timedStartup(ctx context.Context, p *startupProbes) (wall, cpu time.Duration, err error) {
	if err := b.srv.Stop(); err != nil {
		return 0, 0, err
	}
	time.Sleep(2 * time.Second)
	oldPID := b.srv.PID()
	runCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	begin := time.Now()
	started := make(chan error, 1)
	go func() { started <- b.srv.Start(runCtx) }()
	for {
		if pid := b.srv.PID(); pid != oldPID && get(runCtx, p.viaKube, p.listURL) == nil {
			if ok, _ := apiServiceAvailable(runCtx, p.viaKube, p.apiServiceURL); ok {
				wall = time.Since(begin)
				if cpu, err = measure.CPU(pid); err != nil {
					return 0, 0, err
				}
				break
			}
		}
		select {
		case <-runCtx.Done():
			<-started
			return 0, 0, fmt.Errorf("not Available in time: %w", runCtx.Err())
		case <-time.After(startupPoll):
		}
	}
	return wall, cpu, <-started
}

// perKeystoreWorst is the larger of the two per-keystore figures.
func (k *keystoreFigure) perKeystoreWorst() time.Duration {
	if k.BenchError != "" {
		return k.InProcessCPU
	}
	return max(k.InProcessCPU, k.PerKeystore)
}

func benchFigure(k *keystoreFigure) string {
	if k.BenchError != "" {
		return "failed: " + strings.SplitN(k.BenchError, "\n", 2)[0]
	}
	return ms(k.PerKeystore)
}

// signedMS is a difference in milliseconds, with its sign.
func signedMS(d time.Duration) string {
	return fmt.Sprintf("%+.0f ms", float64(d)/float64(time.Millisecond))
}

// keystoreSummary adds the two issue 25 targets to the summary table.
func keystoreSummary(p func(string, ...any), r *results) {
	k := r.Keystores
	if k == nil {
		return
	}
	worst := k.perKeystoreWorst()
	p("| ≤ 25 ms CPU per locked keystore (JDK defaults, four passwords tried) | %s CPU in process (Go benchmark, three passwords: %s) | %s |\n",
		ms(k.InProcessCPU), benchFigure(k), verdict(worst > 0 && worst <= keystoreCPUTarget))
	if k.Locked.Available.Runs > 0 {
		p("| %d locked keystores among %d Secrets add ≤ 1 s to Available (wall and CPU) | wall %s, CPU %s (medians) | %s |\n",
			k.Keystores, r.Secrets, signedMS(k.Growth.Available), signedMS(k.Growth.CPU), verdict(k.Growth.met()))
	}
}

// keystoreSection is the figure's own section.
func keystoreSection(p func(string, ...any), r *results) {
	k := r.Keystores
	if k == nil {
		return
	}
	p("\n## 3b. Locked keystores (issue 25)\n\n")
	p("One locked PKCS#12 keystore (PBES2/AES-256, PBKDF2 and MAC at 10 000 iterations, SHA-256: keytool's and OpenSSL 3's defaults), nothing cached:\n\n")
	p("| how | passwords tried | per keystore |\n|---|---|---|\n")
	p("| in the bench process, the %d keystores of the start-up below, one goroutine | 4: annotated key, labelled password Secret, \"\", changeit | **%s CPU** (%s wall) |\n",
		k.Keystores, ms(k.InProcessCPU), ms(k.InProcessWall))
	p("| `%s` (keytool-written store; GOMAXPROCS 1, so wall ≥ CPU) | 3: annotated key, \"\", changeit | %s |\n", k.BenchCommand, benchFigure(k))
	p("\nTarget ≤ 25 ms: %s.\n\n", verdict(k.perKeystoreWorst() > 0 && k.perKeystoreWorst() <= keystoreCPUTarget))
	if k.Locked.Available.Runs == 0 {
		return
	}
	p("Restarts alternate without and with %d locked keystores (random passwords certstatus is not told) added to the %d Secrets, %d of each; "+
		"time from just before the process starts until the APIService is Available and a list through kube-apiserver answers 200, "+
		"and certstatus's CPU time (user + system, /proc) at that moment.\n\n", k.Keystores, r.Secrets, k.Locked.Available.Runs)
	p("| | Available, median | p90 | certstatus CPU to Available, median | p90 |\n|---|---|---|---|---|\n")
	p("| %d Secrets | %s | %s | %s | %s |\n", r.Secrets, ms(k.Plain.Available.Median), ms(k.Plain.Available.P90), ms(k.Plain.CPU.Median), ms(k.Plain.CPU.P90))
	p("| %d Secrets + %d locked keystores | %s | %s | %s | %s |\n", r.Secrets, k.Keystores, ms(k.Locked.Available.Median), ms(k.Locked.Available.P90), ms(k.Locked.CPU.Median), ms(k.Locked.CPU.P90))
	p("| difference | %s | | %s | |\n", signedMS(k.Growth.Available), signedMS(k.Growth.CPU))
	p("\nTarget: the keystores add ≤ 1 s to both: %s. On a shared machine the CPU time is the figure to trust; wall time also measures the neighbours.\n", verdict(k.Growth.met()))
}
