/* SPDX-License-Identifier: Apache-2.0
 * The HTTP server: libmicrohttpd (the only file that includes <microhttpd.h>) with its epoll
 * thread pool, TLS through GnuTLS, turning each MHD request into a struct kg_req and sending
 * back the struct kg_resp that kg_dispatch builds.
 *
 * Request lifecycle, as MHD's examples do it: the first access-handler call only creates the
 * context (queuing a response there makes MHD close keep-alive connections); upload calls append
 * into a capped buffer; the final call dispatches. A response carrying audit events is held:
 * the connection is suspended, the events go to the group committer, and its callback resumes
 * the connection, whose next handler call queues the response. The completion callback releases
 * the context (the connection's own, reused by its next request) and records metrics and the
 * access log line. */
#include <arpa/inet.h>
#include <pthread.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/thread.h"
#include "endpoints/endpoints.h"
#include "http/linger.h"
#include "http/server.h"
#include "http/tls_io.h"
#include "server/commit.h"
#include "server/server.h"
#include "verify/forwarded.h"

enum state { ST_RECEIVING, ST_WAITING, ST_READY };

struct conn;

struct ctx {
    struct kg_http *http;
    struct MHD_Connection *conn;
    struct conn *owner; /* the connection this context is part of, or NULL if allocated */
    enum state state;
    struct kg_buf body;
    bool too_large;
    size_t discarded; /* body bytes dropped after too_large */
    struct kg_req req;
    struct kg_resp resp;
    enum kg_rc commit_rc;
    bool unsent; /* counted in kg_http.unsent */
    int64_t start_us;
    char path_copy[64]; /* for the access log: first bytes of the path */
};

/* Worker threads for requests whose endpoint asked to be offloaded (resp.offload). Their
 * connections stay suspended until the worker (or the group committer after it) resumes them. */
struct pool {
    pthread_t *threads;
    int n;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct ctx **q;
    size_t head, len, cap;
    bool stop;
};

struct kg_http {
    struct kg_server *srv;
    struct MHD_Daemon *d;
    struct pool pool;
    struct kg_linger *linger;
    char *cert_pem;
    char *key_pem;
    atomic_int unsent;   /* in flight, response not queued yet: may still be suspended */
    atomic_bool closing; /* the drain's last step (below) */
};

/* Shutting down (kg_http_drain). libmicrohttpd may not be stopped while a connection is
 * suspended (MHD_stop_daemon panics), and a request held for the group commit or offloaded is
 * suspended, so the drain ends with no request in flight and none able to start one:
 *   draining  (srv->stopping) new connections are refused, requests are served and each
 *             response closes its connection, until none is in flight; a request reads the
 *             flag once (req->stopping), so its /readyz answer and its Connection: close agree;
 *   closing   a request that starts now is answered 503 at once, never suspended; once none is
 *             in flight MHD_stop_daemon may run. The handler reads `closing` after counting
 *             its request in flight, and the drain sets it before it reads the count (both
 *             sequentially consistent), so either the drain sees the request or the request
 *             sees `closing`.
 * At the deadline, requests whose response is already queued (a client that does not read it)
 * are cut off by MHD_stop_daemon; one that is not (unsent, so it may be suspended) cannot be. */

/* Keep the path raw: routing must see exactly what the client sent (SPEC 12.1, /verify). */
static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s);
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *k,
                                      const char *v)
{
    (void)kind;
    struct kg_req *r = cls;
    if (r->nheaders == KG_MAX_HEADERS) {
        r->too_many_headers = true;
        return MHD_NO;
    }
    r->headers[r->nheaders].name = kg_str_c(k);
    r->headers[r->nheaders].value = kg_str_c(v ? v : "");
    r->nheaders++;
    return MHD_YES;
}

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *k,
                                     const char *v)
{
    (void)kind;
    struct kg_req *r = cls;
    if (r->nquery == KG_MAX_QUERY) {
        return MHD_NO;
    }
    r->query[r->nquery].name = kg_str_c(k);
    r->query[r->nquery].value = kg_str_c(v);
    r->nquery++;
    return MHD_YES;
}

static void peer_of(struct MHD_Connection *conn, char *out, size_t n)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    kg_strlcpy(out, "unknown", n);
    if (!ci || !ci->client_addr) {
        return;
    }
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)n);
    } else if (sa->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)n);
    }
}

/* What keygate keeps per connection: the socket, for the lingering close, on HTTPS the
 * socket layer under GnuTLS, the client's address as text and whether it is a trusted proxy
 * (once, not per request), and the context of the request being served: MHD serves one request
 * of a connection at a time, and ends it (completed) before it reads the next, so one context
 * per connection is reused instead of allocating 4 KB for each request. */
struct conn {
    int fd;
    struct kg_tls_io *tls;
    char peer[sizeof((struct kg_req *)0)->peer];
    bool peer_trusted;
    bool busy; /* ctx holds a request */
    struct ctx ctx;
};

static struct conn *conn_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* Whether libmicrohttpd will send a body after the header (RFC 9110 6.4.1). */
static bool has_body(const struct ctx *c)
{
    int st = c->resp.status;
    return c->resp.body_len > 0 && st >= 200 && st != 204 && st != 304 && c->req.method &&
           strcmp(c->req.method, "HEAD") != 0;
}

/* The request will not be suspended again: its response is queued, or it is over. */
static void sent(struct ctx *c)
{
    if (c->unsent) {
        c->unsent = false;
        atomic_fetch_sub(&c->http->unsent, 1);
    }
}

static enum MHD_Result send_resp(struct ctx *c)
{
    struct kg_resp *r = &c->resp;
    struct MHD_Response *mr = MHD_create_response_from_buffer(
        r->body_len, r->body ? r->body : (void *)(uintptr_t) "", MHD_RESPMEM_MUST_COPY);
    if (!mr) {
        return MHD_NO;
    }
    if (r->content_type) {
        MHD_add_response_header(mr, "Content-Type", r->content_type);
    }
    for (size_t i = 0; i < r->nheaders; i++) {
        MHD_add_response_header(mr, r->headers[i].name, r->headers[i].value);
    }
    MHD_add_response_header(mr, "X-Trace-Id", c->req.trace_id);
    if (c->req.stopping) {
        MHD_add_response_header(mr, "Connection", "close");
    }
    if (r->body_len > 0) { /* every body, once; a bodiless answer (/verify's 200) has none */
        MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
    }
    /* header and body in one TLS write (http/tls_io.h) */
    struct kg_tls_io *tls = c->owner ? c->owner->tls : NULL;
    kg_tls_io_hold_next(tls, has_body(c));
    enum MHD_Result ret = MHD_queue_response(c->conn, (unsigned)r->status, mr);
    if (ret != MHD_YES) {
        kg_tls_io_hold_next(tls, false);
    }
    MHD_destroy_response(mr);
    sent(c);
    return ret;
}

static void committed(void *arg, enum kg_rc rc)
{
    struct ctx *c = arg;
    c->commit_rc = rc;
    c->state = ST_READY;
    MHD_resume_connection(c->conn);
}

/* Hands the response's audit events that need not hold it (audit_behind) to the group committer
 * at once; true if events remain that the response must wait for. */
static bool audit_holds(struct kg_server *srv, struct kg_resp *r)
{
    if (r->naudit && r->audit_behind) {
        kg_committer_submit(srv->commit, r->audit, r->naudit, NULL, NULL);
        r->naudit = 0;
    }
    return r->naudit > 0;
}

/* Runs dispatch for a suspended request and hands its response on: to the group committer when
 * it carries audit events it must wait for (whose callback resumes), else straight back to MHD. */
static void finish_dispatch(struct ctx *c)
{
    kg_dispatch(&c->req, &c->resp);
    if (audit_holds(c->http->srv, &c->resp)) {
        kg_committer_submit(c->http->srv->commit, c->resp.audit, c->resp.naudit, committed, c);
    } else {
        committed(c, KG_OK);
    }
}

static void *worker(void *arg)
{
    struct pool *p = arg;
    kg_thread_name("kg-offload");
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->len && !p->stop) {
            pthread_cond_wait(&p->cv, &p->mu);
        }
        if (!p->len) {
            break;
        }
        struct ctx *c = p->q[p->head];
        p->head = (p->head + 1) % p->cap;
        p->len--;
        pthread_mutex_unlock(&p->mu);
        c->req.on_worker = true;
        atomic_fetch_add(&c->http->srv->metrics.offloaded, 1);
        finish_dispatch(c);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Queues c for a worker; false when the queue is full (the caller then runs it inline). */
static bool offload(struct pool *p, struct ctx *c)
{
    pthread_mutex_lock(&p->mu);
    bool ok = p->len < p->cap && !p->stop;
    if (ok) {
        p->q[(p->head + p->len) % p->cap] = c;
        p->len++;
        pthread_cond_signal(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return ok;
}

static void pool_start(struct pool *p, int n)
{
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->cap = KG_MAX_OFFLOAD_QUEUE;
    p->q = kg_calloc(p->cap, sizeof *p->q);
    p->threads = kg_calloc((size_t)n, sizeof *p->threads);
    for (int i = 0; i < n; i++) {
        if (pthread_create(&p->threads[i], NULL, worker, p) != 0) {
            break;
        }
        p->n++;
    }
}

static void pool_stop(struct pool *p)
{
    if (!p->threads) {
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n; i++) {
        pthread_join(p->threads[i], NULL);
    }
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->threads);
    free(p->q);
    p->threads = NULL;
}

static void build_req(struct ctx *c, struct MHD_Connection *conn, const char *url,
                      const char *method)
{
    struct kg_req *r = &c->req;
    r->srv = c->http->srv;
    r->method = method;
    r->path = kg_str_c(url);
    MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, r);
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_query, r);
    r->body = (struct kg_str){c->body.p ? c->body.p : "", c->body.n};
    r->body_too_large = c->too_large;
    r->stopping = atomic_load(&r->srv->stopping);
    if (c->owner) {
        memcpy(r->peer, c->owner->peer, sizeof r->peer);
        r->peer_trusted = c->owner->peer_trusted;
    } else {
        peer_of(conn, r->peer, sizeof r->peer);
        r->peer_trusted = kg_ip_trusted(r->srv->cfg.trusted_proxies, r->peer);
    }
}

static size_t body_cap(const char *url)
{
    size_t n = strlen(url);
    return (n >= 6 && strcmp(url + n - 6, "/token") == 0) ? KG_MAX_TOKEN_BODY : KG_MAX_FORM_BODY;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **req_cls)
{
    (void)version;
    struct kg_http *h = cls;
    struct ctx *c = *req_cls;
    if (!c) {
        struct conn *owner = conn_of(conn);
        if (owner && !owner->busy) {
            owner->busy = true;
            c = &owner->ctx;
            memset(c, 0, sizeof *c);
            c->owner = owner;
        } else {
            c = kg_calloc(1, sizeof *c);
        }
        c->http = h;
        c->conn = conn;
        c->start_us = kg_monotonic_us();
        kg_trace_id(c->req.trace_id);
        size_t cap = body_cap(url);
        kg_buf_init(&c->body, cap);
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl && strlen(cl) > 9) {
            c->too_large = true;
        } else if (cl && (size_t)strtoul(cl, NULL, 10) > cap) {
            c->too_large = true;
        }
        atomic_fetch_add(&h->srv->metrics.in_flight, 1);
        c->unsent = true;
        atomic_fetch_add(&h->unsent, 1);
        *req_cls = c;
        if (!c->too_large) {
            return MHD_YES;
        }
        /* A declared length over the cap is answered now, before any of the body is read (a
         * client that asked for 100-continue never sends it); MHD then closes the connection. */
    }
    if (c->state == ST_RECEIVING && *upload_size) {
        if (!c->too_large && kg_buf_add(&c->body, upload, *upload_size) != KG_OK) {
            c->too_large = true;
        }
        if (c->too_large) {
            /* Chunked, so only found out while reading: MHD can answer only once the body has
             * ended, so the rest is dropped, up to a bound; past it the connection is closed. */
            c->discarded += *upload_size;
            if (c->discarded > KG_MAX_DISCARDED_BODY) {
                return MHD_NO;
            }
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (c->state == ST_WAITING) {
        return MHD_YES; /* spurious call while suspended */
    }
    if (c->state == ST_READY) {
        c->req.stopping = c->req.stopping || atomic_load(&h->srv->stopping);
        if (c->commit_rc != KG_OK && c->resp.on_commit_failure) {
            c->resp.on_commit_failure(&c->resp, &c->req);
        }
        return send_resp(c);
    }
    build_req(c, conn, url, method);
    if (atomic_load(&h->closing)) {
        kg_problem(&c->resp, &c->req, 503, 9001, "Service Unavailable",
                   "The server is shutting down; retry the request.");
        kg_resp_add_header(&c->resp, "Retry-After", "1");
        return send_resp(c);
    }
    if (c->req.too_many_headers) {
        kg_problem(&c->resp, &c->req, 431, 1011, "Request Header Fields Too Large",
                   "The request has too many headers.");
    } else {
        kg_dispatch(&c->req, &c->resp);
    }
    if (c->resp.offload) {
        kg_resp_clear(&c->resp);
        c->state = ST_WAITING;
        MHD_suspend_connection(conn); /* before queueing: a worker may finish at once */
        if (!offload(&h->pool, c)) {
            c->req.on_worker = true; /* queue full: degrade to running it here */
            finish_dispatch(c);
        }
        return MHD_YES;
    }
    if (audit_holds(h->srv, &c->resp)) {
        c->state = ST_WAITING;
        MHD_suspend_connection(conn); /* before submitting: the callback may run at once */
        kg_committer_submit(h->srv->commit, c->resp.audit, c->resp.naudit, committed, c);
        return MHD_YES;
    }
    return send_resp(c);
}

/* New connections are refused once the drain has begun. */
static enum MHD_Result accept_policy(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    (void)addr;
    (void)addrlen;
    struct kg_http *h = cls;
    return atomic_load(&h->srv->stopping) ? MHD_NO : MHD_YES;
}

/* Remembers each connection's socket, and hands it to the lingering close as MHD closes it: MHD
 * closes at once, and a client still sending would get a reset instead of our error response. */
static void connection_event(void *cls, struct MHD_Connection *conn, void **socket_ctx,
                             enum MHD_ConnectionNotificationCode what)
{
    struct kg_http *h = cls;
    if (what == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (!ci) {
            return;
        }
        struct conn *c = kg_calloc(1, sizeof *c);
        c->fd = ci->connect_fd;
        peer_of(conn, c->peer, sizeof c->peer);
        c->peer_trusted = kg_ip_trusted(h->srv->cfg.trusted_proxies, c->peer);
        const union MHD_ConnectionInfo *tls =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
        if (tls && tls->tls_session) {
            c->tls = kg_tls_io_install(tls->tls_session, c->fd);
        }
        *socket_ctx = c;
    } else if (what == MHD_CONNECTION_NOTIFY_CLOSED && *socket_ctx) {
        struct conn *c = *socket_ctx;
        kg_linger_adopt(h->linger, c->fd);
        kg_tls_io_free(c->tls);
        free(c);
        *socket_ctx = NULL;
    }
}

static void completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    struct kg_http *h = cls;
    struct ctx *c = *req_cls;
    if (!c) {
        return;
    }
    int64_t us = kg_monotonic_us() - c->start_us;
    int status = c->resp.status ? c->resp.status : 0;
    kg_metrics_request(&h->srv->metrics, status, (uint64_t)us);
    if (c->req.method && kg_log_enabled(KG_LOG_INFO)) {
        char st[8], dur[24];
        snprintf(st, sizeof st, "%d", status);
        snprintf(dur, sizeof dur, "%lld", (long long)us);
        size_t pn =
            c->req.path.n < sizeof c->path_copy - 1 ? c->req.path.n : sizeof c->path_copy - 1;
        memcpy(c->path_copy, c->req.path.p, pn);
        c->path_copy[pn] = '\0';
        kg_log(KG_LOG_INFO, c->req.trace_id, "http.request", "method", c->req.method, "path",
               c->path_copy, "status", st, "duration_us", dur, "peer", c->req.peer, "completed",
               toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "ok" : "aborted", NULL);
    }
    sent(c);
    kg_resp_clear(&c->resp);
    kg_buf_free(&c->body);
    if (c->owner) {
        c->owner->busy = false;
    } else {
        free(c);
    }
    *req_cls = NULL;
    atomic_fetch_sub(&h->srv->metrics.in_flight, 1);
}

__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r')) {
        msg[--n] = '\0';
    }
    kg_log(KG_LOG_DEBUG, NULL, "http.mhd", "message", msg, NULL);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    struct kg_buf b;
    kg_buf_init(&b, 1 << 20);
    char tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0) {
        if (kg_buf_add(&b, tmp, n) != KG_OK) {
            kg_buf_free(&b);
            fclose(f);
            return NULL;
        }
    }
    fclose(f);
    return kg_buf_take(&b);
}

/* host:port or [v6]:port into a socket address. */
static bool parse_listen(const char *s, struct sockaddr_storage *ss, bool *v6)
{
    memset(ss, 0, sizeof *ss);
    char host[128];
    const char *colon;
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end || end[1] != ':' || (size_t)(end - s - 1) >= sizeof host) {
            return false;
        }
        memcpy(host, s + 1, (size_t)(end - s - 1));
        host[end - s - 1] = '\0';
        colon = end + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || (size_t)(colon - s) >= sizeof host) {
            return false;
        }
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = '\0';
    }
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (!end || *end || port < 0 || port > 65535) {
        return false;
    }
    if (strcmp(host, "localhost") == 0) {
        kg_strlcpy(host, "127.0.0.1", sizeof host);
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        *v6 = false;
        return true;
    }
    if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *v6 = true;
        return true;
    }
    return false;
}

enum kg_rc kg_http_start(struct kg_server *srv, struct kg_http **out, struct kg_err *e)
{
    struct kg_http *h = kg_calloc(1, sizeof *h);
    h->srv = srv;
    atomic_init(&h->unsent, 0);
    atomic_init(&h->closing, false);
    struct sockaddr_storage ss;
    bool v6 = false;
    if (!parse_listen(srv->cfg.listen, &ss, &v6)) {
        free(h);
        return KG_FAIL(e, KG_ERR_INVALID, "--listen %s is not host:port", srv->cfg.listen);
    }
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (v6) {
        flags |= MHD_USE_IPv6;
    }
    if (!srv->cfg.insecure_http) {
        h->cert_pem = slurp(srv->cfg.tls_cert);
        h->key_pem = slurp(srv->cfg.tls_key);
        if (!h->cert_pem || !h->key_pem) {
            kg_http_stop(h);
            return KG_FAIL(e, KG_ERR_INVALID, "cannot read TLS certificate or key");
        }
        flags |= MHD_USE_TLS;
    }
    struct MHD_OptionItem opts[16];
    int n = 0;
#define OPT(o, v, p) opts[n++] = (struct MHD_OptionItem){(o), (intptr_t)(v), (p)}
    OPT(MHD_OPTION_SOCK_ADDR, 0, &ss);
    OPT(MHD_OPTION_NOTIFY_COMPLETED, completed, h);
    OPT(MHD_OPTION_NOTIFY_CONNECTION, connection_event, h);
    OPT(MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL);
    OPT(MHD_OPTION_CONNECTION_LIMIT, KG_MAX_CONNECTIONS, NULL);
    OPT(MHD_OPTION_PER_IP_CONNECTION_LIMIT, KG_MAX_CONNECTIONS_PER_IP, NULL);
    OPT(MHD_OPTION_CONNECTION_TIMEOUT, KG_CONNECTION_TIMEOUT, NULL);
    OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, KG_MAX_HEADER_BYTES * 2, NULL);
    OPT(MHD_OPTION_STRICT_FOR_CLIENT, 1, NULL);
    if (srv->cfg.threads > 1) {
        OPT(MHD_OPTION_THREAD_POOL_SIZE, srv->cfg.threads, NULL);
    }
    if (!srv->cfg.insecure_http) {
        OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, h->cert_pem);
        OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, h->key_pem);
    }
    OPT(MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL);
    OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
    /* CPU-bound work (argon2, bounded by cores in oauth/identity.c) needs a thread per core;
     * reads that wait on a network need more, so that their round trips overlap */
    pool_start(&h->pool,
               srv->cfg.threads *
                   (srv->store->ops->reads_wait ? KG_OFFLOAD_THREADS_PER_CORE_WAITING : 1));
    h->linger = kg_linger_start(KG_LINGER_IDLE_MS, KG_LINGER_TOTAL_MS);
    h->d = MHD_start_daemon(flags, 0, accept_policy, h, handler, h, MHD_OPTION_ARRAY, opts,
                            MHD_OPTION_END);
    if (!h->d) {
        kg_http_stop(h);
        return KG_FAIL(e, KG_ERR_INTERNAL, "cannot listen on %s (in use, or not permitted?)",
                       srv->cfg.listen);
    }
    *out = h;
    return KG_OK;
}

/* Waits until no request is in flight or the monotonic deadline (ms) passes. */
static bool settled(struct kg_http *h, int64_t until)
{
    while (atomic_load(&h->srv->metrics.in_flight) > 0) {
        if (kg_monotonic_ms() >= until) {
            return false;
        }
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return true;
}

/* The steps are described at "Shutting down" above. The listen socket stays open until
 * kg_http_stop (the accept policy refuses new connections): MHD_quiesce_daemon is not used,
 * because libmicrohttpd 0.9.75 races its own epoll worker in it (both remove the listen socket
 * from the epoll set; the second one gets ENOENT and panics), and its panic macro is followed by
 * __builtin_unreachable, so no handler can let it continue. */
bool kg_http_drain(struct kg_http *h, int max_ms)
{
    if (!h || !h->d) {
        return true;
    }
    int64_t until = kg_monotonic_ms() + max_ms;
    atomic_store(&h->srv->stopping, true);
    bool drained = settled(h, until);
    atomic_store(&h->closing, true);
    if (drained && settled(h, until)) {
        return true;
    }
    int left = atomic_load(&h->srv->metrics.in_flight), unsent = atomic_load(&h->unsent);
    char n[16];
    snprintf(n, sizeof n, "%d", left);
    kg_log(KG_LOG_WARN, NULL, "http.drain_deadline", "in_flight", n, NULL);
    return unsent == 0; /* the rest are only sending: MHD_stop_daemon ends them */
}

void kg_http_stop(struct kg_http *h)
{
    if (!h) {
        return;
    }
    if (h->d) {
        MHD_stop_daemon(h->d);
    }
    kg_linger_stop(h->linger);
    pool_stop(&h->pool);
    if (h->key_pem) {
        kg_wipe(h->key_pem, strlen(h->key_pem));
    }
    free(h->key_pem);
    free(h->cert_pem);
    free(h);
}
