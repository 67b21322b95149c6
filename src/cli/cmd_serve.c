/* SPDX-License-Identifier: Apache-2.0
 * keygate init | serve. serve with no arguments runs https://127.0.0.1:8443 on SQLite under
 * ./var, creating the store, master key and development certificate on first start (SPEC 9).
 * SIGTERM or SIGINT: stop accepting, finish in-flight requests, commit queued audit events,
 * close the store. */
#include <arpa/inet.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/crypto.h"
#include "core/log.h"
#include "http/server.h"
#include "http/tls.h"
#include "server/crash.h"
#include "server/server.h"
#include "verify/forwarded.h"

#define SERVE_OPTS                                                                                 \
    "listen= public-url= tls-cert= tls-key= insecure-http threads= log-level= refresh-grace= "     \
    "trusted-proxies= default-api= access-log jwks-max-age= signing-key-lifetime= drain-timeout="

static bool loopback(const char *host)
{
    struct in_addr a4;
    if (inet_pton(AF_INET, host, &a4) == 1) {
        return (ntohl(a4.s_addr) >> 24) == 127;
    }
    return strcmp(host, "::1") == 0 || strcmp(host, "localhost") == 0;
}

/* The host part of host:port or [v6]:port. */
static void listen_host(const char *listen, char *out, size_t n)
{
    if (listen[0] == '[') {
        const char *e = strchr(listen, ']');
        size_t l = e ? (size_t)(e - listen - 1) : 0;
        snprintf(out, n, "%.*s", (int)l, listen + 1);
        return;
    }
    const char *c = strrchr(listen, ':');
    snprintf(out, n, "%.*s", c ? (int)(c - listen) : (int)strlen(listen), listen);
}

/* The host of a URL, for the certificate. */
static void url_host(const char *url, char *out, size_t n)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    if (*p == '[') {
        const char *e = strchr(p, ']');
        snprintf(out, n, "%.*s", e ? (int)(e - p - 1) : 0, p + 1);
        return;
    }
    size_t l = strcspn(p, ":/");
    snprintf(out, n, "%.*s", (int)l, p);
}

static bool configure(const struct kg_args *a, struct kg_config *cfg)
{
    kg_config_defaults(cfg);
    const char *v;
    if ((v = kg_args_get(a, "data"))) {
        kg_strlcpy(cfg->data_dir, v, sizeof cfg->data_dir);
    }
    if ((v = kg_args_get(a, "db"))) {
        kg_strlcpy(cfg->db_url, v, sizeof cfg->db_url);
    }
    if ((v = kg_args_get(a, "listen"))) {
        kg_strlcpy(cfg->listen, v, sizeof cfg->listen);
    }
    cfg->insecure_http = kg_args_flag(a, "insecure-http");
    if ((v = kg_args_get(a, "threads"))) {
        char *end = NULL;
        long t = strtol(v, &end, 10);
        if (!end || *end || t < 1 || t > 256) {
            kg_cli_fail("--threads is 1 to 256");
            return false;
        }
        cfg->threads = (int)t;
    }
    if ((v = kg_args_get(a, "refresh-grace"))) {
        int64_t g = kg_parse_duration(v);
        if (g < 0 || g > 300) {
            kg_cli_fail("--refresh-grace is 0 to 300 seconds");
            return false;
        }
        cfg->refresh_grace_seconds = (int)g;
    }
    char host[128];
    listen_host(cfg->listen, host, sizeof host);
    if ((v = kg_args_get(a, "public-url"))) {
        kg_strlcpy(cfg->public_url, v, sizeof cfg->public_url);
    } else {
        const char *colon = strrchr(cfg->listen, ':');
        bool any = strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0;
        snprintf(cfg->public_url, sizeof cfg->public_url, "%s://%s%s",
                 cfg->insecure_http ? "http" : "https", any ? "localhost" : cfg->listen,
                 any && colon ? colon : "");
    }
    size_t l = strlen(cfg->public_url);
    while (l && cfg->public_url[l - 1] == '/') {
        cfg->public_url[--l] = '\0';
    }
    if (strncmp(cfg->public_url, "https://", 8) != 0 && strncmp(cfg->public_url, "http://", 7)) {
        kg_cli_fail("--public-url must be an http(s) URL");
        return false;
    }
    if (cfg->insecure_http && !loopback(host)) {
        kg_cli_fail("--insecure-http listens on loopback only (behind a TLS-terminating proxy)");
        return false;
    }
    const char *cert = kg_args_get(a, "tls-cert"), *key = kg_args_get(a, "tls-key");
    if ((cert == NULL) != (key == NULL)) {
        kg_cli_fail("--tls-cert and --tls-key go together");
        return false;
    }
    if (cert) {
        kg_strlcpy(cfg->tls_cert, cert, sizeof cfg->tls_cert);
        kg_strlcpy(cfg->tls_key, key, sizeof cfg->tls_key);
    }
    if ((v = kg_args_get(a, "trusted-proxies"))) {
        if (!kg_ip_list_valid(v) ||
            !kg_strlcpy(cfg->trusted_proxies, v, sizeof cfg->trusted_proxies)) {
            kg_cli_fail("--trusted-proxies is a comma-separated list of addresses or CIDRs");
            return false;
        }
    }
    if ((v = kg_args_get(a, "default-api"))) {
        kg_strlcpy(cfg->default_api, v, sizeof cfg->default_api);
    }
    cfg->access_log = kg_args_flag(a, "access-log");
    if ((v = kg_args_get(a, "jwks-max-age"))) {
        cfg->jwks_max_age = kg_parse_duration(v);
        if (cfg->jwks_max_age < 1 || cfg->jwks_max_age > 86400) {
            kg_cli_fail("--jwks-max-age is 1s to 24h");
            return false;
        }
    }
    if ((v = kg_args_get(a, "signing-key-lifetime"))) {
        cfg->signing_key_lifetime = kg_parse_duration(v);
        if (cfg->signing_key_lifetime < 0 ||
            (cfg->signing_key_lifetime > 0 && cfg->signing_key_lifetime < 3 * cfg->jwks_max_age)) {
            kg_cli_fail(
                "--signing-key-lifetime is 0 (by hand only) or at least 3 x --jwks-max-age");
            return false;
        }
    }
    if ((v = kg_args_get(a, "drain-timeout"))) {
        cfg->drain_timeout = kg_parse_duration(v);
        if (cfg->drain_timeout < 1 || cfg->drain_timeout > 3600) {
            kg_cli_fail("--drain-timeout is 1s to 1h");
            return false;
        }
    }
    if ((v = kg_args_get(a, "log-level"))) {
        kg_log_set_level(strcmp(v, "debug") == 0   ? KG_LOG_DEBUG
                         : strcmp(v, "warn") == 0  ? KG_LOG_WARN
                         : strcmp(v, "error") == 0 ? KG_LOG_ERROR
                                                   : KG_LOG_INFO);
    }
    return true;
}

int kg_cmd_serve(int argc, char **argv)
{
    struct kg_args a;
    if (!kg_args_parse(argc, argv, 2, SERVE_OPTS, &a)) {
        return 2;
    }
    static struct kg_server srv; /* shared by every request thread for the process lifetime */
    if (!configure(&a, &srv.cfg)) {
        return 2;
    }
    /* before any thread starts (the store's committer and key schedule too): every thread
     * inherits the mask, and only main takes SIGTERM/SIGINT, in sigwait below */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* every thread inherits; main waits below */
    signal(SIGPIPE, SIG_IGN);
    kg_crash_report_install();
    /* Every request allocates and frees a few tens of KB per thread; with glibc's default
     * 128 KB trim threshold the thread arenas give the top of their heaps back (madvise, with
     * a TLB shootdown across cores) and fault it in again many times a second. Keep up to
     * 8 MB free per arena instead: RSS stays at the peak working set, which is small. */
    mallopt(M_TRIM_THRESHOLD, 8 << 20);
    struct kg_err e = {0};
    if (kg_master_key_load(srv.cfg.data_dir, true, srv.cfg.master_key, &e) != KG_OK) {
        return kg_cli_fail("%s", e.detail);
    }
    if (kg_server_open(&srv, &e) != KG_OK) {
        return kg_cli_fail("cannot open the store: %s", e.detail);
    }
    if (kg_bootstrap(srv.store) != KG_OK) {
        kg_server_close(&srv);
        return kg_cli_fail("cannot initialise the store");
    }
    char ca[1200] = "";
    if (!srv.cfg.insecure_http && !srv.cfg.tls_cert[0]) {
        char host[256];
        url_host(srv.cfg.public_url, host, sizeof host);
        if (kg_tls_dev_cert(srv.cfg.data_dir, host, ca, srv.cfg.tls_cert, srv.cfg.tls_key,
                            sizeof srv.cfg.tls_cert, &e) != KG_OK) {
            kg_server_close(&srv);
            return kg_cli_fail("%s", e.detail);
        }
    }
    struct kg_http *http = NULL;
    if (kg_http_start(&srv, &http, &e) != KG_OK) {
        kg_server_close(&srv);
        return kg_cli_fail("%s", e.detail);
    }
    char threads[16];
    snprintf(threads, sizeof threads, "%d", srv.cfg.threads);
    kg_log(KG_LOG_INFO, NULL, "server.started", "listen", srv.cfg.listen, "public_url",
           srv.cfg.public_url, "store", srv.store->ops->name, "threads", threads, "ca", ca, NULL);
    if (srv.cfg.insecure_http) {
        kg_log(KG_LOG_WARN, NULL, "server.insecure_http", "message",
               "serving plain HTTP: only behind a TLS-terminating proxy on this machine", NULL);
    }
    printf("keygate %s listening on %s (store: %s)\n", KG_VERSION, srv.cfg.public_url,
           srv.store->ops->name);
    if (ca[0]) {
        printf("development CA certificate: %s\n"
               "  trust it: curl --cacert %s | REQUESTS_CA_BUNDLE=%s | NODE_EXTRA_CA_CERTS=%s\n",
               ca, ca, ca, ca);
    }
    printf("get started: keygate tenant create contoso; then see README.md\n");
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    kg_log(KG_LOG_INFO, NULL, "server.stopping", "signal", sig == SIGTERM ? "TERM" : "INT", NULL);
    if (!kg_http_drain(http, (int)srv.cfg.drain_timeout * 1000)) {
        /* requests still wait (on the store, or for their body): nothing they would answer
         * has been sent, and libmicrohttpd cannot be stopped under them, so the process ends */
        kg_log(KG_LOG_ERROR, NULL, "server.drain_timeout", "message",
               "requests not yet answered at the drain deadline; exiting without them", NULL);
        _exit(1);
    }
    kg_http_stop(http);
    kg_server_close(&srv); /* commits what is queued */
    kg_wipe(srv.cfg.master_key, sizeof srv.cfg.master_key);
    kg_log(KG_LOG_INFO, NULL, "server.stopped", NULL);
    return 0;
}

int kg_cmd_init(int argc, char **argv)
{
    struct kg_args a;
    if (!kg_args_parse(argc, argv, 2, "", &a)) {
        return 2;
    }
    struct kg_cli c;
    if (!kg_cli_open(&a, &c)) {
        return 1;
    }
    struct kg_json *j = kg_json_obj();
    kg_json_set_str(j, "data_dir", c.data_dir);
    kg_json_set_str(j, "store", c.store->ops->name);
    char text[1200];
    snprintf(text, sizeof text, "initialised %s (%s)\n", c.data_dir, c.store->ops->name);
    int r = kg_cli_print(&c, j, text);
    kg_cli_close(&c);
    return r;
}
