/* SPDX-License-Identifier: Apache-2.0
 * Development CA and server certificate with OpenSSL; see tls.h. The CA lives as long as the
 * data directory so that a client told to trust it once keeps working; the server certificate
 * (P-256, 825 days, CA-signed) is issued anew at every start, naming the hosts in use. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/crypto.h"
#include "core/str.h"
#include "http/tls.h"

static bool write_pem_key(const char *path, EVP_PKEY *k)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        if (fd >= 0) {
            close(fd);
        }
        return false;
    }
    bool ok = PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1;
    return fclose(f) == 0 && ok;
}

static bool write_pem_cert(const char *path, X509 *x)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        return false;
    }
    bool ok = PEM_write_X509(f, x) == 1;
    return fclose(f) == 0 && ok;
}

static bool add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext) {
        return false;
    }
    bool ok = X509_add_ext(x, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, long days,
                       bool ca, const char *san)
{
    X509 *x = X509_new();
    uint8_t serial[16];
    kg_random(serial, sizeof serial);
    serial[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
    bool ok = x && bn && X509_set_version(x, 2) == 1 &&
              BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL &&
              X509_gmtime_adj(X509_getm_notBefore(x), -3600) != NULL &&
              X509_gmtime_adj(X509_getm_notAfter(x), days * 86400L) != NULL &&
              X509_set_pubkey(x, key) == 1;
    BN_free(bn);
    if (ok) {
        X509_NAME *name = X509_get_subject_name(x);
        ok = X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"keygate",
                                        -1, -1, 0) == 1 &&
             X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
                                        0) == 1 &&
             X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name) == 1;
    }
    X509 *iss = issuer ? issuer : x;
    if (ok && ca) {
        ok = add_ext(x, iss, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") &&
             add_ext(x, iss, NID_key_usage, "critical,keyCertSign,cRLSign") &&
             add_ext(x, iss, NID_subject_key_identifier, "hash");
    } else if (ok) {
        ok = add_ext(x, iss, NID_basic_constraints, "critical,CA:FALSE") &&
             add_ext(x, iss, NID_key_usage, "critical,digitalSignature") &&
             add_ext(x, iss, NID_ext_key_usage, "serverAuth") &&
             add_ext(x, iss, NID_subject_alt_name, san) &&
             add_ext(x, iss, NID_authority_key_identifier, "keyid:always");
    }
    if (ok) {
        ok = X509_sign(x, issuer_key, EVP_sha256()) > 0;
    }
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static EVP_PKEY *read_key(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        return NULL;
    }
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    return k;
}

static X509 *read_cert(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        return NULL;
    }
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    return x;
}

enum kg_rc kg_tls_dev_cert(const char *data_dir, const char *host, char *ca_path, char *cert_path,
                           char *key_path, size_t n, struct kg_err *e)
{
    char dir[1100], ca_key[1200];
    snprintf(dir, sizeof dir, "%s/tls", data_dir);
    if ((mkdir(data_dir, 0700) != 0 && errno != EEXIST) ||
        (mkdir(dir, 0700) != 0 && errno != EEXIST)) {
        return KG_FAIL(e, KG_ERR_INTERNAL, "cannot create %s", dir);
    }
    snprintf(ca_path, n, "%s/ca.pem", dir);
    snprintf(ca_key, sizeof ca_key, "%s/ca.key", dir);
    snprintf(cert_path, n, "%s/server.pem", dir);
    snprintf(key_path, n, "%s/server.key", dir);

    enum kg_rc rc = KG_ERR_CRYPTO;
    EVP_PKEY *cak = read_key(ca_key), *sk = NULL;
    X509 *ca = read_cert(ca_path), *srv = NULL;
    if (!cak || !ca) {
        EVP_PKEY_free(cak);
        X509_free(ca);
        cak = EVP_EC_gen("P-256");
        ca = cak ? make_cert(cak, "keygate development CA", NULL, cak, 3650, true, NULL) : NULL;
        if (!ca || !write_pem_key(ca_key, cak) || !write_pem_cert(ca_path, ca)) {
            KG_FAIL(e, KG_ERR_CRYPTO, "cannot create the development CA in %s", dir);
            goto out;
        }
    }
    char san[512];
    struct in6_addr tmp;
    bool is_ip = inet_pton(AF_INET, host, &tmp) == 1 || inet_pton(AF_INET6, host, &tmp) == 1;
    snprintf(san, sizeof san, "DNS:localhost,IP:127.0.0.1,IP:::1%s%s%s",
             host[0] && strcmp(host, "localhost") && strcmp(host, "127.0.0.1") ? "," : "",
             host[0] && strcmp(host, "localhost") && strcmp(host, "127.0.0.1")
                 ? (is_ip ? "IP:" : "DNS:")
                 : "",
             host[0] && strcmp(host, "localhost") && strcmp(host, "127.0.0.1") ? host : "");
    sk = EVP_EC_gen("P-256");
    srv = sk ? make_cert(sk, host[0] ? host : "localhost", ca, cak, 825, false, san) : NULL;
    if (!srv || !write_pem_key(key_path, sk) || !write_pem_cert(cert_path, srv)) {
        KG_FAIL(e, KG_ERR_CRYPTO, "cannot issue the development certificate");
        goto out;
    }
    rc = KG_OK;
out:
    EVP_PKEY_free(cak);
    EVP_PKEY_free(sk);
    X509_free(ca);
    X509_free(srv);
    return rc;
}
