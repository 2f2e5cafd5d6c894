// Package kubernetes holds wsgo's example manifests and the test that
// keeps them right: every document decodes strictly into the upstream API
// types, the container's args are parsed by wsgo's own flag parser, and
// the ports, probes and grace period agree with those flags. It is a
// module of its own so that the wsgo binary does not depend on k8s.io.
package kubernetes

import (
	"bytes"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"wsgo/internal/config"
	"wsgo/supervisor"
)

// manifests is every document of every .yaml file here, decoded strictly.
type manifests struct {
	deployments []*appsv1.Deployment
	services    []*corev1.Service
	hpas        []*autoscalingv2.HorizontalPodAutoscaler
	pdbs        []*policyv1.PodDisruptionBudget
}

func load(t *testing.T) *manifests {
	t.Helper()
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests found (%v)", err)
	}
	m := &manifests{}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range bytes.Split(data, []byte("\n---\n")) {
			if err := m.add(doc); err != nil {
				t.Errorf("%s, document %d: %v", file, i+1, err)
			}
		}
	}
	return m
}

// add decodes one document into the type its apiVersion and kind name;
// a field the type does not have is an error.
func (m *manifests) add(doc []byte) error {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return err
	}
	var obj any
	switch tm.APIVersion + " " + tm.Kind {
	case "apps/v1 Deployment":
		d := &appsv1.Deployment{}
		m.deployments, obj = append(m.deployments, d), d
	case "v1 Service":
		s := &corev1.Service{}
		m.services, obj = append(m.services, s), s
	case "autoscaling/v2 HorizontalPodAutoscaler":
		h := &autoscalingv2.HorizontalPodAutoscaler{}
		m.hpas, obj = append(m.hpas, h), h
	case "policy/v1 PodDisruptionBudget":
		p := &policyv1.PodDisruptionBudget{}
		m.pdbs, obj = append(m.pdbs, p), p
	default:
		return fmt.Errorf("%s %s: a kind this test does not check", tm.APIVersion, tm.Kind)
	}
	return yaml.UnmarshalStrict(doc, obj)
}

// parseArgs runs the container's args through wsgo's own parser, as the
// binary would: an unknown flag or a bad value fails here.
func parseArgs(t *testing.T, args []string) *config.Options {
	t.Helper()
	if len(args) == 0 || args[0] != "run" {
		t.Fatalf("args %q: want `run TARGET FLAGS...` (the image's entrypoint is wsgo)", args)
	}
	o, err := config.ParseArgs(args[1:]...)
	if err != nil {
		t.Fatalf("args %q: %v", args, err)
	}
	return o
}

func port(t *testing.T, bind string) int32 {
	t.Helper()
	_, p, err := net.SplitHostPort(bind)
	n, err2 := strconv.Atoi(p)
	if err != nil || err2 != nil {
		t.Fatalf("%q is not a HOST:PORT bind", bind)
	}
	return int32(n)
}

// containerPort is the number of the container's port named or numbered p.
func containerPort(t *testing.T, c *corev1.Container, p intstr.IntOrString) int32 {
	t.Helper()
	for _, cp := range c.Ports {
		if (p.Type == intstr.String && cp.Name == p.StrVal) || (p.Type == intstr.Int && cp.ContainerPort == p.IntVal) {
			return cp.ContainerPort
		}
	}
	t.Fatalf("container %s has no port %s", c.Name, p.String())
	return 0
}

func checkProbe(t *testing.T, c *corev1.Container, what string, p *corev1.Probe, path string, metricsPort int32) {
	t.Helper()
	if p == nil || p.HTTPGet == nil {
		t.Errorf("%s: no HTTP %s probe", c.Name, what)
		return
	}
	if p.HTTPGet.Path != path || containerPort(t, c, p.HTTPGet.Port) != metricsPort {
		t.Errorf("%s probe: GET %s on port %d; want %s on --metrics-bind's port %d",
			what, p.HTTPGet.Path, containerPort(t, c, p.HTTPGet.Port), path, metricsPort)
	}
	if p.TimeoutSeconds < 1 || p.PeriodSeconds < p.TimeoutSeconds {
		t.Errorf("%s probe: timeout %ds, period %ds; want a timeout of at least 1 s within the period",
			what, p.TimeoutSeconds, p.PeriodSeconds)
	}
}

func TestDeploymentAgreesWithItsFlags(t *testing.T) {
	m := load(t)
	if len(m.deployments) != 1 {
		t.Fatalf("%d Deployments; want 1", len(m.deployments))
	}
	d := m.deployments[0]
	spec := d.Spec.Template.Spec
	if len(spec.Containers) != 1 {
		t.Fatalf("%d containers; want 1 (wsgo)", len(spec.Containers))
	}
	c := &spec.Containers[0]
	o := parseArgs(t, c.Args)
	if len(o.Binds) != 1 || o.MetricsBind == "" {
		t.Fatalf("args %q: want one --bind and a --metrics-bind (the probes' port)", c.Args)
	}
	appPort, metricsPort := port(t, o.Binds[0]), port(t, o.MetricsBind)
	if got := containerPort(t, c, intstr.FromString("http")); got != appPort {
		t.Errorf("port http is %d; --bind says %d", got, appPort)
	}
	if got := containerPort(t, c, intstr.FromString("metrics")); got != metricsPort {
		t.Errorf("port metrics is %d; --metrics-bind says %d", got, metricsPort)
	}
	checkProbe(t, c, "liveness", c.LivenessProbe, "/healthz", metricsPort)
	checkProbe(t, c, "readiness", c.ReadinessProbe, "/readyz", metricsPort)

	// The kubelet's SIGKILL must not come before wsgo has finished.
	needed := o.ShutdownDelay + o.GracefulTimeout + supervisor.KillMargin
	grace := time.Duration(ptr.Deref(spec.TerminationGracePeriodSeconds, corev1.DefaultTerminationGracePeriodSeconds)) * time.Second
	if grace <= needed {
		t.Errorf("terminationGracePeriodSeconds is %s; want more than --shutdown-delay + --graceful-timeout + %s = %s",
			grace, supervisor.KillMargin, needed)
	}
	if o.ShutdownDelay == 0 {
		t.Error("--shutdown-delay is 0: a rolling update races the endpoints controller")
	}

	ann := d.Spec.Template.Annotations
	if ann["prometheus.io/scrape"] != "true" || ann["prometheus.io/port"] != strconv.Itoa(int(metricsPort)) || ann["prometheus.io/path"] != "/metrics" {
		t.Errorf("prometheus.io annotations %v; want scrape true, port %d, path /metrics", ann, metricsPort)
	}

	sc := spec.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser != 10001 {
		t.Errorf("pod securityContext %+v; want runAsNonRoot and runAsUser 10001 (the Dockerfile's user)", sc)
	}

	cpu, ok := c.Resources.Limits[corev1.ResourceCPU]
	if !ok || c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Fatalf("resources %+v; want CPU and memory requests, and CPU and memory limits", c.Resources)
	}
	if cpus := int(math.Ceil(cpu.AsApproximateFloat64())); o.Workers > cpus {
		t.Errorf("--workers %d with a CPU limit of %s: more workers than CPUs only adds memory", o.Workers, cpu.String())
	}
	if d.Spec.Strategy.RollingUpdate == nil || d.Spec.Strategy.RollingUpdate.MaxUnavailable.IntValue() != 0 {
		t.Errorf("rolling update %+v; want maxUnavailable 0", d.Spec.Strategy.RollingUpdate)
	}
}

func TestServiceHPAAndPDBTargetTheDeployment(t *testing.T) {
	m := load(t)
	if len(m.deployments) != 1 || len(m.services) != 1 || len(m.hpas) != 1 || len(m.pdbs) != 1 {
		t.Fatalf("%d Deployments, %d Services, %d HPAs, %d PDBs; want one of each",
			len(m.deployments), len(m.services), len(m.hpas), len(m.pdbs))
	}
	d, s, h, p := m.deployments[0], m.services[0], m.hpas[0], m.pdbs[0]
	podLabels := d.Spec.Template.Labels
	selects := func(sel map[string]string) bool {
		for k, v := range sel {
			if podLabels[k] != v {
				return false
			}
		}
		return len(sel) > 0
	}
	if !selects(s.Spec.Selector) {
		t.Errorf("the Service selects %v; the pods are labelled %v", s.Spec.Selector, podLabels)
	}
	if p.Spec.Selector == nil || !selects(p.Spec.Selector.MatchLabels) {
		t.Errorf("the PDB selects %v; the pods are labelled %v", p.Spec.Selector, podLabels)
	}
	c := &d.Spec.Template.Spec.Containers[0]
	o := parseArgs(t, c.Args)
	for _, sp := range s.Spec.Ports {
		if got := containerPort(t, c, sp.TargetPort); got != port(t, o.Binds[0]) {
			t.Errorf("the Service's port %s goes to %d; --bind listens on %d", sp.Name, got, port(t, o.Binds[0]))
		}
	}
	ref := h.Spec.ScaleTargetRef
	if ref.APIVersion != "apps/v1" || ref.Kind != "Deployment" || ref.Name != d.Name {
		t.Errorf("the HPA scales %s %s %s; want apps/v1 Deployment %s", ref.APIVersion, ref.Kind, ref.Name, d.Name)
	}
	if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < 2 {
		t.Errorf("the HPA's minReplicas %v; want at least 2, so a pod's restart is not an outage", h.Spec.MinReplicas)
	}
	for _, metric := range h.Spec.Metrics {
		if metric.Resource != nil && metric.Resource.Name == corev1.ResourceCPU && c.Resources.Requests.Cpu().IsZero() {
			t.Error("the HPA scales on CPU utilization, which needs a CPU request on the container")
		}
	}
}
