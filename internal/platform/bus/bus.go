package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const (
	// embeddedStartTimeout bounds how long Open waits for the embedded server.
	embeddedStartTimeout = 30 * time.Second
	// connectTimeout bounds the first connection to an external server.
	connectTimeout = 5 * time.Second
	// reconnectWait is the pause between reconnection attempts.
	reconnectWait = time.Second
	// drainTimeout bounds how long Close waits for in-flight messages.
	drainTimeout = 10 * time.Second
	// connName identifies Plinth's connections in the server's monitoring.
	connName = "plinth"
	// asyncAckTimeout is how long an asynchronous publish (and a
	// PublishBatch) waits for its acknowledgement before giving up on it:
	// a core subscriber on the subject, unlike a stream, never answers.
	asyncAckTimeout = 30 * time.Second
)

// Bus is a connection to JetStream, and the embedded server when there is
// one. Its methods are safe for concurrent use. The Bus owns the connection
// and the server; Close releases both.
type Bus struct {
	cfg      Config
	logger   *slog.Logger
	nc       *nats.Conn
	js       jetstream.JetStream
	pub      *Publisher
	embedded *server.Server // nil when external
	closed   chan struct{}  // closed by the connection's ClosedHandler

	closeOnce sync.Once
	closeErr  error
}

// Open validates cfg and returns a connected Bus. With an empty cfg.URL it
// starts an embedded server whose JetStream store is <dataDir>/nats (dataDir
// must then be set); otherwise it connects to cfg.URL, failing if the server
// cannot be reached within a few seconds, and reconnects forever after a
// later loss. ctx is checked before starting, but the first connection is
// bounded by its own 5 s timeout (the NATS client takes no context). A nil
// logger discards. Open does not create streams: call EnsureStreams.
func Open(ctx context.Context, cfg Config, dataDir string, logger *slog.Logger) (*Bus, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("bus config: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("open bus: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	b := &Bus{cfg: cfg, logger: logger, closed: make(chan struct{})}
	var err error
	if cfg.URL == "" {
		err = b.openEmbedded(dataDir)
	} else {
		err = b.openExternal()
	}
	if err != nil {
		return nil, err
	}
	if b.pub, err = newPublisher(b.nc); err != nil {
		_ = b.Close()
		return nil, fmt.Errorf("open bus: %w", err)
	}
	js, err := jetstream.New(b.nc, jetstream.WithPublishAsyncTimeout(asyncAckTimeout))
	if err != nil {
		_ = b.Close()
		return nil, fmt.Errorf("open jetstream: %w", err)
	}
	b.js = js
	return b, nil
}

func (b *Bus) openEmbedded(dataDir string) error {
	if dataDir == "" {
		return errors.New("open embedded nats: no data directory")
	}
	storeDir := filepath.Join(dataDir, "nats")
	if err := os.MkdirAll(storeDir, 0o750); err != nil {
		return fmt.Errorf("open embedded nats: %w", err)
	}
	opts, err := embeddedOptions(b.cfg, storeDir)
	if err != nil {
		return err
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("start embedded nats: %w", err)
	}
	ns.SetLoggerV2(&serverLogger{logger: b.logger.With("component", "nats-server")}, false, false, false)
	ns.Start()
	if !ns.ReadyForConnections(embeddedStartTimeout) {
		ns.Shutdown()
		ns.WaitForShutdown()
		return fmt.Errorf("start embedded nats in %q: not ready after %s", storeDir, embeddedStartTimeout)
	}
	b.embedded = ns
	nc, err := nats.Connect("", append(b.connOptions(), nats.InProcessServer(ns))...)
	if err != nil {
		ns.Shutdown()
		ns.WaitForShutdown()
		return fmt.Errorf("connect to embedded nats: %w", err)
	}
	b.nc = nc
	return nil
}

func embeddedOptions(cfg Config, storeDir string) (*server.Options, error) {
	opts := &server.Options{
		ServerName: "plinth-embedded",
		JetStream:  true,
		StoreDir:   storeDir,
		SyncAlways: cfg.SyncAlways,
		DontListen: cfg.Listen == "",
		NoLog:      true,
		NoSigs:     true,
	}
	if cfg.Listen == "" {
		return opts, nil
	}
	host, port, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("nats listen address %q: %w", cfg.Listen, err)
	}
	opts.Host = host
	opts.Port, err = strconv.Atoi(port)
	if err != nil {
		return nil, fmt.Errorf("nats listen address %q: %w", cfg.Listen, err)
	}
	if opts.Port == 0 {
		// nats-server reads port 0 as its default port, 4222.
		opts.Port = server.RANDOM_PORT
	}
	return opts, nil
}

func (b *Bus) openExternal() error {
	opts := append(b.connOptions(),
		nats.Timeout(connectTimeout),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(reconnectWait),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			b.logger.Warn("nats disconnected", "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			b.logger.Info("nats reconnected", "server", nc.ConnectedUrlRedacted())
		}),
	)
	nc, err := nats.Connect(b.cfg.URL, opts...)
	if err != nil {
		return fmt.Errorf("connect to nats: %w", err)
	}
	b.nc = nc
	return nil
}

func (b *Bus) connOptions() []nats.Option {
	return []nats.Option{
		nats.Name(connName),
		nats.ClosedHandler(func(*nats.Conn) { close(b.closed) }),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			b.logger.Warn("nats async error", "subject", subject, "err", err)
		}),
	}
}

// JetStream returns the JetStream context, for consumers and streams beyond
// the contract ones. It stays owned by the Bus.
func (b *Bus) JetStream() jetstream.JetStream { return b.js }

// Conn returns the underlying connection, owned by the Bus: do not close it.
func (b *Bus) Conn() *nats.Conn { return b.nc }

// Publisher returns the batch publisher on the Bus's connection, owned by
// the Bus: Close closes it.
func (b *Bus) Publisher() *Publisher { return b.pub }

// ClientURL returns the URL other processes connect to: cfg.URL for an
// external server, nats://host:port for an embedded server with a listener,
// and "" for an embedded server without one.
func (b *Bus) ClientURL() string {
	if b.embedded == nil {
		return b.cfg.URL
	}
	if b.cfg.Listen == "" {
		return ""
	}
	addr, ok := b.embedded.Addr().(*net.TCPAddr)
	if !ok {
		return ""
	}
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "nats://" + net.JoinHostPort(host, strconv.Itoa(addr.Port))
}

// Publish publishes data to subject (given without prefix) on JetStream and
// waits for the server's acknowledgement. It writes the trace context of ctx
// into the headers, and sets Nats-Msg-Id when msgID is not empty so that the
// stream drops a repeat within its duplicate window (the ack then reports
// Duplicate). hdr is copied, never modified. It blocks until acknowledged or
// ctx is done.
func (b *Bus) Publish(ctx context.Context, subject string, data []byte, msgID string, hdr nats.Header) (*jetstream.PubAck, error) {
	msg := &nats.Msg{Subject: b.Subject(subject), Data: data, Header: make(nats.Header, len(hdr)+2)}
	for k, v := range hdr {
		msg.Header[k] = append([]string(nil), v...)
	}
	InjectContext(ctx, msg.Header)
	var opts []jetstream.PublishOpt
	if msgID != "" {
		opts = append(opts, jetstream.WithMsgID(msgID))
	}
	ack, err := b.js.PublishMsg(ctx, msg, opts...)
	if err != nil {
		return nil, fmt.Errorf("publish to %q: %w", msg.Subject, err)
	}
	return ack, nil
}

// Message is one message of PublishBatch.
type Message struct {
	Subject string // without the bus's prefix
	Data    []byte
	MsgID   string // JetStream's de-duplication id; empty for none
}

// PublishBatch publishes msgs one after the other without waiting, so the
// connection sends them in few writes and JetStream stores and
// acknowledges them together, then waits until each is acknowledged, 30 s
// passed or ctx is done. It returns how many were persisted (a duplicate
// of a message the stream holds counts as persisted) and the first error,
// which names the subject of its message. A message still unacknowledged
// when ctx is done counts as not persisted, though JetStream may yet
// store it; its MsgID makes a retry harmless. Nothing is resent: a message
// no stream was ready for fails at once. Each message is copied into the
// connection's buffer as it is published, so msgs and their Data may be
// reused as soon as PublishBatch returns. It publishes through
// [Bus.Publisher], without the trace context of ctx.
func (b *Bus) PublishBatch(ctx context.Context, msgs []Message) (int, error) {
	hdr := nats.Header{jetstream.MsgIDHeader: {""}}
	id := hdr[jetstream.MsgIDHeader]
	var last, subject string // a batch's messages mostly share a subject
	res := b.pub.Publish(ctx, len(msgs), asyncAckTimeout, func(i int, m *nats.Msg) {
		if i == 0 || msgs[i].Subject != last {
			last, subject = msgs[i].Subject, b.Subject(msgs[i].Subject)
		}
		m.Subject, m.Data, m.Header = subject, msgs[i].Data, nil
		if msgs[i].MsgID != "" {
			id[0], m.Header = msgs[i].MsgID, hdr
		}
	})
	if res.Err != nil {
		return res.Persisted, fmt.Errorf("publish to %q: %w", b.Subject(msgs[res.ErrIndex].Subject), res.Err)
	}
	return res.Persisted, nil
}

// Ready reports nil when the connection is up and JetStream answers.
func (b *Bus) Ready(ctx context.Context) error {
	if s := b.nc.Status(); s != nats.CONNECTED {
		return fmt.Errorf("nats connection is %s", s)
	}
	if _, err := b.js.AccountInfo(ctx); err != nil {
		return fmt.Errorf("jetstream account info: %w", err)
	}
	return nil
}

// Close closes the Publisher (a batch still waiting fails at once, and so
// does every later one), drains the connection (delivering what is in
// flight), then shuts the embedded server down and waits for it. It is
// safe to call more than once; later calls return the first result.
func (b *Bus) Close() error {
	b.closeOnce.Do(func() { b.closeErr = b.close() })
	return b.closeErr
}

func (b *Bus) close() error {
	var errs []error
	if b.pub != nil {
		if err := b.pub.close(); err != nil {
			errs = append(errs, err)
		}
	}
	if b.nc != nil {
		if err := b.nc.Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			errs = append(errs, fmt.Errorf("drain nats: %w", err))
			b.nc.Close()
		}
		select {
		case <-b.closed:
		case <-time.After(drainTimeout):
			b.nc.Close()
			<-b.closed
			errs = append(errs, fmt.Errorf("drain nats: not done after %s", drainTimeout))
		}
	}
	if b.embedded != nil {
		b.embedded.Shutdown()
		b.embedded.WaitForShutdown()
	}
	return errors.Join(errs...)
}
