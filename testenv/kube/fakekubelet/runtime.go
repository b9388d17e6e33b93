package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/util/retry"
)

const (
	annPullDelay = "kubelet.test/pull-delay"
	annPullError = "kubelet.test/pull-error"
)

// runtime keeps one "container" (a local process) per pod on this node.
type runtime struct {
	k  *kubelet
	mu sync.Mutex
	// By "namespace/name". A pod that was seen once is never started again.
	pods map[string]*container
}

type container struct {
	pod    *corev1.Pod
	key    string
	cmd    *exec.Cmd
	tty    *os.File // pty master when the container has tty: true
	stdin  io.WriteCloser
	once   bool // stdinOnce: close stdin when the first attach ends
	mu     sync.Mutex
	logBuf []logChunk
	logCh  chan struct{} // closed and replaced whenever logBuf grows
	out    io.Writer     // the attached client's stdout, if any
	errw   io.Writer
	done   chan struct{} // closed when the process has exited
	exit   int
	killed bool
	stop   chan struct{} // closed on deletion
	stopMu sync.Once
	attach sync.Mutex // one attach at a time
}

type logChunk struct {
	at   time.Time
	data []byte
}

func newRuntime(k *kubelet) *runtime {
	return &runtime{k: k, pods: map[string]*container{}}
}

func (r *runtime) get(key string) *container {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pods[key]
}

func (r *runtime) sync(pod *corev1.Pod) {
	key := pod.Namespace + "/" + pod.Name
	r.mu.Lock()
	c, seen := r.pods[key]
	if seen && c.pod.UID != pod.UID {
		// Deleted and created again under the same name between two polls.
		r.mu.Unlock()
		r.forget(c.pod)
		r.mu.Lock()
		c, seen = r.pods[key]
	}
	if !seen {
		if pod.DeletionTimestamp != nil || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
			r.mu.Unlock()
			if pod.DeletionTimestamp != nil {
				go r.finalize(pod, nil)
			}
			return
		}
		c = &container{pod: pod.DeepCopy(), key: key, done: make(chan struct{}), stop: make(chan struct{}), logCh: make(chan struct{})}
		r.pods[key] = c
		r.mu.Unlock()
		go r.run(c)
		return
	}
	r.mu.Unlock()
	if pod.DeletionTimestamp != nil {
		c.stopMu.Do(func() {
			close(c.stop)
			go r.finalize(pod, c)
		})
	}
}

// forgetMissing drops the containers of pods that no longer exist (deleted, possibly while the
// API server was away).
func (r *runtime) forgetMissing(present map[string]bool) {
	r.mu.Lock()
	var gone []*corev1.Pod
	for key, c := range r.pods {
		if !present[key] {
			gone = append(gone, c.pod)
		}
	}
	r.mu.Unlock()
	for _, p := range gone {
		r.forget(p)
	}
}

func (r *runtime) forget(pod *corev1.Pod) {
	key := pod.Namespace + "/" + pod.Name
	r.mu.Lock()
	c := r.pods[key]
	delete(r.pods, key)
	r.mu.Unlock()
	if c != nil {
		c.stopMu.Do(func() { close(c.stop) })
		c.kill(syscall.SIGKILL)
	}
}

func (r *runtime) killAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.pods {
		c.kill(syscall.SIGKILL)
	}
}

// finalize plays the kubelet's part of a graceful deletion: stop the process (TERM, then KILL
// after the grace period), then remove the pod object for good.
func (r *runtime) finalize(pod *corev1.Pod, c *container) {
	if c != nil && c.cmd != nil {
		grace := int64(30)
		if pod.DeletionGracePeriodSeconds != nil {
			grace = *pod.DeletionGracePeriodSeconds
		}
		c.kill(syscall.SIGTERM)
		select {
		case <-c.done:
		case <-time.After(time.Duration(grace) * time.Second):
			c.kill(syscall.SIGKILL)
			<-c.done
		}
		r.k.event(pod, corev1.EventTypeNormal, "Killing", "Stopping container "+containerName(pod))
	}
	zero := int64(0)
	err := r.k.client.CoreV1().Pods(pod.Namespace).Delete(r.k.ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: &zero,
		Preconditions:      &metav1.Preconditions{UID: &pod.UID},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		log.Printf("finalize %s/%s: %v", pod.Namespace, pod.Name, err)
	}
}

func containerName(pod *corev1.Pod) string {
	if len(pod.Spec.Containers) == 0 {
		return ""
	}
	return pod.Spec.Containers[0].Name
}

func (r *runtime) run(c *container) {
	pod := c.pod
	spec := pod.Spec.Containers[0]
	image := spec.Image
	r.k.event(pod, corev1.EventTypeNormal, "Pulling", fmt.Sprintf("Pulling image %q", image))
	if d, err := time.ParseDuration(pod.Annotations[annPullDelay]); err == nil && d > 0 {
		select {
		case <-time.After(d):
		case <-c.stop:
			return
		}
	}
	if msg, ok := pod.Annotations[annPullError]; ok {
		r.pullFailure(c, image, msg)
		return
	}
	r.k.event(pod, corev1.EventTypeNormal, "Pulled", fmt.Sprintf("Successfully pulled image %q in 12ms (12ms including waiting). Image size: 1000000 bytes.", image))
	select {
	case <-c.stop:
		return
	default:
	}

	// Like the kubelet: envFrom sources are read before the container is created; a missing,
	// non-optional Secret or ConfigMap is a CreateContainerConfigError.
	fromEnv, err := r.k.envFrom(pod)
	if err != nil {
		r.k.event(pod, corev1.EventTypeWarning, "Failed", "Error: "+err.Error())
		r.setWaiting(c, "CreateContainerConfigError", err.Error())
		return
	}
	if err := c.start(r.k, fromEnv); err != nil {
		r.k.event(pod, corev1.EventTypeWarning, "Failed", "Error: "+err.Error())
		r.setWaiting(c, "RunContainerError", err.Error())
		return
	}
	r.k.event(pod, corev1.EventTypeNormal, "Created", "Created container: "+spec.Name)
	r.k.event(pod, corev1.EventTypeNormal, "Started", "Started container "+spec.Name)
	started := metav1.Now()
	r.updateStatus(c, func(st *corev1.PodStatus) {
		st.Phase = corev1.PodRunning
		st.HostIP, st.PodIP = "127.0.0.1", "127.0.0.1"
		st.HostIPs, st.PodIPs = []corev1.HostIP{{IP: "127.0.0.1"}}, []corev1.PodIP{{IP: "127.0.0.1"}}
		st.StartTime = &started
		setConditions(st, corev1.ConditionTrue)
		st.ContainerStatuses = []corev1.ContainerStatus{{
			Name: spec.Name, Image: image, ImageID: image, ContainerID: "fake://" + string(pod.UID), Ready: true, Started: ptr(true),
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: started}},
		}}
	})

	var deadline <-chan time.Time
	if pod.Spec.ActiveDeadlineSeconds != nil {
		deadline = time.After(time.Duration(*pod.Spec.ActiveDeadlineSeconds) * time.Second)
	}
	select {
	case <-c.done:
	case <-deadline:
		c.kill(syscall.SIGKILL)
		<-c.done
		r.updateStatus(c, func(st *corev1.PodStatus) {
			st.Phase = corev1.PodFailed
			st.Reason, st.Message = "DeadlineExceeded", "Pod was active on the node longer than the specified deadline"
			setConditions(st, corev1.ConditionFalse)
			terminated(st, spec, image, started, 137, "Error")
		})
		return
	case <-c.stop:
		<-c.done
		return
	}
	select {
	case <-c.stop:
		return // Being deleted: the status no longer matters.
	default:
	}
	code := c.exit
	r.updateStatus(c, func(st *corev1.PodStatus) {
		if code == 0 {
			st.Phase = corev1.PodSucceeded
		} else {
			st.Phase = corev1.PodFailed
		}
		setConditions(st, corev1.ConditionFalse)
		reason := "Completed"
		if code != 0 {
			reason = "Error"
		}
		terminated(st, spec, image, started, int32(code), reason)
	})
}

func terminated(st *corev1.PodStatus, spec corev1.Container, image string, started metav1.Time, code int32, reason string) {
	st.ContainerStatuses = []corev1.ContainerStatus{{
		Name: spec.Name, Image: image, ImageID: image, Ready: false, Started: ptr(false),
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason, StartedAt: started, FinishedAt: metav1.Now()}},
	}}
}

func (r *runtime) pullFailure(c *container, image, msg string) {
	pod := c.pod
	r.k.event(pod, corev1.EventTypeWarning, "Failed", fmt.Sprintf("Failed to pull image %q: %s", image, msg))
	r.k.event(pod, corev1.EventTypeWarning, "Failed", "Error: ErrImagePull")
	r.setWaiting(c, "ErrImagePull", msg)
	backoff := 2 * time.Second
	for {
		select {
		case <-c.stop:
			return
		case <-time.After(backoff):
		}
		r.k.event(pod, corev1.EventTypeNormal, "BackOff", fmt.Sprintf("Back-off pulling image %q", image))
		r.k.event(pod, corev1.EventTypeWarning, "Failed", "Error: ImagePullBackOff")
		r.setWaiting(c, "ImagePullBackOff", fmt.Sprintf("Back-off pulling image %q: ErrImagePull: %s", image, msg))
		backoff = min(backoff*2, 30*time.Second)
	}
}

func (r *runtime) setWaiting(c *container, reason, msg string) {
	spec := c.pod.Spec.Containers[0]
	r.updateStatus(c, func(st *corev1.PodStatus) {
		st.Phase = corev1.PodPending
		st.HostIP = "127.0.0.1"
		setConditions(st, corev1.ConditionFalse)
		st.ContainerStatuses = []corev1.ContainerStatus{{
			Name: spec.Name, Image: spec.Image, Ready: false, Started: ptr(false),
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}},
		}}
	})
}

func setConditions(st *corev1.PodStatus, ready corev1.ConditionStatus) {
	now := metav1.Now()
	keep := []corev1.PodCondition{}
	for _, c := range st.Conditions {
		if c.Type == corev1.PodScheduled {
			keep = append(keep, c)
		}
	}
	st.Conditions = append(keep,
		corev1.PodCondition{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: now},
		corev1.PodCondition{Type: corev1.ContainersReady, Status: ready, LastTransitionTime: now},
		corev1.PodCondition{Type: corev1.PodReady, Status: ready, LastTransitionTime: now},
	)
}

func (r *runtime) updateStatus(c *container, mutate func(*corev1.PodStatus)) {
	// Like a kubelet, keep trying while the API server is away (restarts are part of the tests).
	backoff := wait.Backoff{Duration: 100 * time.Millisecond, Factor: 1.5, Steps: 30, Cap: 2 * time.Second}
	err := retry.OnError(backoff, func(err error) bool { return !apierrors.IsNotFound(err) }, func() error {
		pod, err := r.k.client.CoreV1().Pods(c.pod.Namespace).Get(r.k.ctx, c.pod.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if pod.UID != c.pod.UID {
			return apierrors.NewNotFound(corev1.Resource("pods"), c.pod.Name)
		}
		mutate(&pod.Status)
		_, err = r.k.client.CoreV1().Pods(pod.Namespace).UpdateStatus(r.k.ctx, pod, metav1.UpdateOptions{})
		return err
	})
	if err != nil && !apierrors.IsNotFound(err) {
		log.Printf("status %s: %v", c.key, err)
	}
}

// envFrom resolves the container's envFrom sources into NAME=VALUE pairs (prefix applied).
func (k *kubelet) envFrom(pod *corev1.Pod) ([]string, error) {
	var env []string
	for _, src := range pod.Spec.Containers[0].EnvFrom {
		var (
			kind, name string
			optional   *bool
			data       map[string]string
			err        error
		)
		switch {
		case src.SecretRef != nil:
			kind, name, optional = "secret", src.SecretRef.Name, src.SecretRef.Optional
			var sec *corev1.Secret
			if sec, err = k.client.CoreV1().Secrets(pod.Namespace).Get(k.ctx, name, metav1.GetOptions{}); err == nil {
				data = map[string]string{}
				for key, v := range sec.Data {
					data[key] = string(v)
				}
			}
		case src.ConfigMapRef != nil:
			kind, name, optional = "configmap", src.ConfigMapRef.Name, src.ConfigMapRef.Optional
			var cm *corev1.ConfigMap
			if cm, err = k.client.CoreV1().ConfigMaps(pod.Namespace).Get(k.ctx, name, metav1.GetOptions{}); err == nil {
				data = cm.Data
			}
		}
		if apierrors.IsNotFound(err) {
			if optional != nil && *optional {
				continue
			}
			return nil, fmt.Errorf("%s %q not found", kind, name)
		}
		if err != nil {
			return nil, err
		}
		for key, v := range data {
			env = append(env, src.Prefix+key+"="+v)
		}
	}
	return env, nil
}

func (c *container) start(k *kubelet, fromEnv []string) error {
	spec := c.pod.Spec.Containers[0]
	argv := append(append([]string{}, spec.Command...), spec.Args...)
	if len(argv) == 0 {
		return errors.New("no command specified")
	}
	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	if k.shimDir != "" {
		path = k.shimDir + ":" + path
	}
	env := []string{"PATH=" + path, "HOSTNAME=" + c.pod.Name, "TERM=xterm"}
	env = append(env, fromEnv...) // then env, which wins, as in the kubelet
	for _, e := range spec.Env {
		env = append(env, e.Name+"="+e.Value)
	}
	bin, err := lookPath(argv[0], path)
	if err != nil {
		return fmt.Errorf("failed to create containerd task: exec: %q: executable file not found in $PATH", argv[0])
	}
	cmd := exec.Command(bin, argv[1:]...)
	cmd.Args[0] = argv[0]
	cmd.Env = env
	cmd.Dir = k.workDir
	c.cmd = cmd
	c.once = spec.StdinOnce
	// Wait closes the output pipes, so it may only be called once the pumps have read all.
	var pumps sync.WaitGroup

	if spec.TTY {
		f, err := pty.StartWithAttrs(cmd, &pty.Winsize{Rows: 24, Cols: 80}, &syscall.SysProcAttr{Setsid: true, Setctty: true})
		if err != nil {
			return err
		}
		c.tty = f
		c.stdin = f
		pumps.Add(1)
		go func() { defer pumps.Done(); c.pump(f, 1) }()
	} else {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if spec.Stdin {
			w, err := cmd.StdinPipe()
			if err != nil {
				return err
			}
			c.stdin = w
		}
		outR, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		errR, err := cmd.StderrPipe()
		if err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return err
		}
		pumps.Add(2)
		go func() { defer pumps.Done(); c.pump(outR, 1) }()
		go func() { defer pumps.Done(); c.pump(errR, 2) }()
	}
	go func() {
		if c.tty == nil {
			pumps.Wait()
		}
		err := cmd.Wait()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				code = 128 + int(ws.Signal())
			} else {
				code = ee.ExitCode()
			}
		} else if err != nil {
			code = 128
		}
		if c.tty != nil {
			// A pty's master reads EIO once the last process holding the slave is gone.
			pumps.Wait()
		}
		c.mu.Lock()
		c.exit = code
		c.mu.Unlock()
		close(c.done)
		if c.tty != nil {
			c.tty.Close()
		}
	}()
	return nil
}

func lookPath(name, path string) (string, error) {
	if len(name) > 0 && name[0] == '/' {
		return name, nil
	}
	old := os.Getenv("PATH")
	os.Setenv("PATH", path)
	defer os.Setenv("PATH", old)
	return exec.LookPath(name)
}

// pump copies the process's output into the log and to whoever is attached. Output written
// while nobody is attached is not replayed on attach, as with a real runtime; it stays in the log.
func (c *container) pump(r io.Reader, stream int) {
	buf := make([]byte, 32*1024)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			chunk := append([]byte(nil), buf[:n]...)
			c.mu.Lock()
			c.logBuf = append(c.logBuf, logChunk{at: time.Now(), data: chunk})
			close(c.logCh)
			c.logCh = make(chan struct{})
			w := c.out
			if stream == 2 && c.errw != nil {
				w = c.errw
			}
			c.mu.Unlock()
			if w != nil {
				_, _ = w.Write(chunk)
			}
		}
		if err != nil {
			return
		}
	}
}

func (c *container) kill(sig syscall.Signal) {
	if c.cmd == nil || c.cmd.Process == nil {
		return
	}
	if sig == syscall.SIGKILL {
		c.mu.Lock()
		c.killed = true
		c.mu.Unlock()
	}
	// The whole process group (session with a tty), as a runtime kills the container.
	_ = syscall.Kill(-c.cmd.Process.Pid, sig)
}

func (c *container) streamLogs(ctx context.Context, w http.ResponseWriter, follow bool, since time.Time) {
	flusher, _ := w.(http.Flusher)
	sent := 0
	write := func() bool {
		c.mu.Lock()
		chunks := c.logBuf[sent:]
		sent = len(c.logBuf)
		c.mu.Unlock()
		for _, ch := range chunks {
			if ch.at.Before(since) {
				continue
			}
			if _, err := w.Write(ch.data); err != nil {
				return false
			}
		}
		if flusher != nil {
			flusher.Flush()
		}
		return true
	}
	for {
		c.mu.Lock()
		ch := c.logCh
		c.mu.Unlock()
		if !write() || !follow {
			return
		}
		select {
		case <-ch:
		case <-c.done:
			write()
			return
		case <-ctx.Done():
			return
		}
	}
}

// AttachContainer implements the kubelet streaming library's Attacher: connect the client's
// streams to the running process until it exits or the client goes away.
func (r *runtime) AttachContainer(ctx context.Context, name string, _ types.UID, _ string, in io.Reader, out, errw io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize) error {
	c := r.get(name)
	if c == nil || c.cmd == nil {
		return fmt.Errorf("container not found (%q)", name)
	}
	select {
	case <-c.done:
		return fmt.Errorf("cannot attach to a container that is not running")
	default:
	}
	c.attach.Lock()
	defer c.attach.Unlock()
	c.mu.Lock()
	c.out = out
	if !tty {
		c.errw = errw
	}
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.out, c.errw = nil, nil
		c.mu.Unlock()
		if c.once {
			c.closeStdin()
		}
	}()

	if resize != nil && c.tty != nil {
		go func() {
			for size := range resize {
				if size.Width > 0 && size.Height > 0 {
					_ = pty.Setsize(c.tty, &pty.Winsize{Rows: size.Height, Cols: size.Width})
				}
			}
		}()
	}
	if in != nil && c.stdin != nil {
		go func() {
			_, _ = io.Copy(c.stdin, in)
			// The client closed its stdin (v5 CLOSE frame or the end of the stream).
			if c.once {
				c.closeStdin()
			}
		}()
	}
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return nil
	}
}

func (c *container) closeStdin() {
	if c.stdin == nil {
		return
	}
	if c.tty != nil {
		// A terminal's end of input is ^D at the start of a line; closing the master would hang up.
		_, _ = c.tty.Write([]byte{4})
		return
	}
	_ = c.stdin.Close()
}

func ptr[T any](v T) *T { return &v }
