// fake-kubelet plays one node of the local test cluster. There is no container engine on the
// test machines, so a pod's "container" is a local process running the pod's command (under a
// pty when the container has tty: true). Everything the plugin sees goes through the real
// kube-apiserver: the node object, pod status, events, and pods/attach, which the apiserver
// proxies here and which is served by the kubelet's own streaming library.
//
// Test knobs, as pod annotations:
//
//	kubelet.test/pull-delay: "5s"       Pulling, wait, then Pulled (a slow image pull)
//	kubelet.test/pull-error: "<msg>"    ErrImagePull / ImagePullBackOff, never starts
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	remotecommandconsts "k8s.io/apimachinery/pkg/util/remotecommand"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/kubelet/pkg/cri/streaming/remotecommand"
)

type kubelet struct {
	client   kubernetes.Interface
	node     string
	port     int
	shimDir  string
	workDir  string
	runtime  *runtime
	ctx      context.Context
	protocol []string
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the test cluster")
	node := flag.String("node-name", "nixrun-node-0", "name of the node to play")
	port := flag.Int("port", 0, "HTTPS port for the kubelet API (attach, logs)")
	shimDir := flag.String("shim-dir", "", "directory put first on the PATH of every container process")
	workDir := flag.String("work-dir", os.TempDir(), "working directory of container processes")
	flag.Parse()
	if *kubeconfig == "" || *port == 0 {
		log.Fatal("--kubeconfig and --port are required")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		log.Fatalf("kubeconfig: %v", err)
	}
	cfg.QPS, cfg.Burst = 200, 400
	client := kubernetes.NewForConfigOrDie(cfg)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	k := &kubelet{
		client:   client,
		node:     *node,
		port:     *port,
		shimDir:  *shimDir,
		workDir:  *workDir,
		ctx:      ctx,
		protocol: remotecommandconsts.SupportedStreamingProtocols,
	}
	k.runtime = newRuntime(k)

	if err := k.serve(); err != nil {
		log.Fatalf("serve: %v", err)
	}
	if err := k.registerNode(ctx); err != nil {
		log.Fatalf("register node: %v", err)
	}
	go k.heartbeat(ctx)
	go k.defaultServiceAccounts(ctx)
	k.watchPods(ctx)
	<-ctx.Done()
	k.runtime.killAll()
}

func (k *kubelet) registerNode(ctx context.Context) error {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("32"),
		corev1.ResourceMemory: resource.MustParse("64Gi"),
		corev1.ResourcePods:   resource.MustParse("500"),
	}
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: k.node,
			Labels: map[string]string{
				"kubernetes.io/hostname": k.node,
				"kubernetes.io/os":       "linux",
				"kubernetes.io/arch":     "amd64",
				"nixrun.test/node":       "fake-kubelet",
			},
		},
	}
	if _, err := k.client.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	// TaintNodesByCondition admission adds not-ready on create; only a node-lifecycle controller
	// would remove it, and none runs here.
	if _, err := k.client.CoreV1().Nodes().Patch(ctx, k.node, types.MergePatchType, []byte(`{"spec":{"taints":null}}`), metav1.PatchOptions{}); err != nil {
		return err
	}
	return k.updateNodeStatus(ctx, capacity)
}

func (k *kubelet) updateNodeStatus(ctx context.Context, capacity corev1.ResourceList) error {
	n, err := k.client.CoreV1().Nodes().Get(ctx, k.node, metav1.GetOptions{})
	if err != nil {
		return err
	}
	now := metav1.Now()
	if capacity != nil {
		n.Status.Capacity = capacity
		n.Status.Allocatable = capacity
	}
	n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}, {Type: corev1.NodeHostName, Address: k.node}}
	n.Status.DaemonEndpoints.KubeletEndpoint.Port = int32(k.port)
	n.Status.NodeInfo = corev1.NodeSystemInfo{Architecture: "amd64", OperatingSystem: "linux", KubeletVersion: "v1.34.4-fake", ContainerRuntimeVersion: "fake://local-process"}
	n.Status.Conditions = []corev1.NodeCondition{{
		Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "fake kubelet is posting ready status",
		LastHeartbeatTime: now, LastTransitionTime: now,
	}}
	_, err = k.client.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
	return err
}

func (k *kubelet) heartbeat(ctx context.Context) {
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := k.updateNodeStatus(ctx, nil); err != nil {
				log.Printf("heartbeat: %v", err)
			}
		}
	}
}

// defaultServiceAccounts does kube-controller-manager's one job the tests need: every namespace
// gets a "default" service account, so ServiceAccount admission can stay on.
//
// The fake kubelet polls instead of using informers: a poll recovers at once when the API server
// comes back from a restart, where an informer's back-off can wait for tens of seconds.
func (k *kubelet) defaultServiceAccounts(ctx context.Context) {
	seen := map[string]bool{}
	for ctx.Err() == nil {
		list, err := k.client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
		if err == nil {
			for _, ns := range list.Items {
				if seen[ns.Name] || ns.Status.Phase == corev1.NamespaceTerminating {
					continue
				}
				sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: ns.Name}}
				if _, err := k.client.CoreV1().ServiceAccounts(ns.Name).Create(ctx, sa, metav1.CreateOptions{}); err == nil || apierrors.IsAlreadyExists(err) {
					seen[ns.Name] = true
				}
			}
		}
		sleepCtx(ctx, 200*time.Millisecond)
	}
}

// watchPods syncs the pods bound to this node, and forgets the ones that are gone.
func (k *kubelet) watchPods(ctx context.Context) {
	go func() {
		for ctx.Err() == nil {
			list, err := k.client.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + k.node})
			if err == nil {
				present := map[string]bool{}
				for i := range list.Items {
					p := &list.Items[i]
					present[p.Namespace+"/"+p.Name] = true
					k.runtime.sync(p)
				}
				k.runtime.forgetMissing(present)
			}
			sleepCtx(ctx, 100*time.Millisecond)
		}
	}()
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func (k *kubelet) event(pod *corev1.Pod, typ, reason, msg string) {
	now := metav1.Now()
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{GenerateName: pod.Name + ".", Namespace: pod.Namespace},
		InvolvedObject: corev1.ObjectReference{
			Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID, APIVersion: "v1",
			FieldPath: "spec.containers{" + containerName(pod) + "}",
		},
		Reason: reason, Message: msg, Type: typ,
		Source:         corev1.EventSource{Component: "kubelet", Host: k.node},
		FirstTimestamp: now, LastTimestamp: now, Count: 1,
		ReportingController: "kubelet", ReportingInstance: k.node,
	}
	if _, err := k.client.CoreV1().Events(pod.Namespace).Create(k.ctx, ev, metav1.CreateOptions{}); err != nil && !apierrors.IsNotFound(err) {
		log.Printf("event %s/%s %s: %v", pod.Namespace, pod.Name, reason, err)
	}
}

func (k *kubelet) serve() error {
	cert, err := selfSignedCert()
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/attach/", k.handleAttach)
	mux.HandleFunc("/containerLogs/", k.handleLogs)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "ok") })
	srv := &http.Server{Addr: fmt.Sprintf("127.0.0.1:%d", k.port), Handler: mux, TLSConfig: cert}
	ln, err := listenTLS(srv.Addr, cert)
	if err != nil {
		return err
	}
	go func() {
		if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
			log.Printf("kubelet API: %v", err)
		}
	}()
	return nil
}

// /attach/{namespace}/{pod}[/{uid}]/{container}
func (k *kubelet) handleAttach(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/attach/"), "/")
	if len(parts) < 3 {
		http.Error(w, "bad path", http.StatusBadRequest)
		return
	}
	ns, pod, container := parts[0], parts[1], parts[len(parts)-1]
	opts, err := remotecommand.NewOptions(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	remotecommand.ServeAttach(w, r, k.runtime, ns+"/"+pod, "", container, opts, 4*time.Hour, 30*time.Second, k.protocol)
}

// /containerLogs/{namespace}/{pod}/{container}?follow=true
func (k *kubelet) handleLogs(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/containerLogs/"), "/")
	if len(parts) < 3 {
		http.Error(w, "bad path", http.StatusBadRequest)
		return
	}
	c := k.runtime.get(parts[0] + "/" + parts[1])
	if c == nil {
		http.Error(w, "container not found", http.StatusNotFound)
		return
	}
	var since time.Time
	if t, err := time.Parse(time.RFC3339, r.URL.Query().Get("sinceTime")); err == nil {
		since = t
	}
	w.Header().Set("Content-Type", "text/plain")
	c.streamLogs(r.Context(), w, r.URL.Query().Get("follow") == "true", since)
}
