/* SPDX-License-Identifier: Apache-2.0
 * Small public lookups: /tenants/lookup/{name} (seed 003), /common/userrealm/{upn} (what MSAL
 * Python's username/password flow asks first; COMPAT: always "Managed"), and /errors/{code}, the
 * page every error_uri and problem type points at. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/encode.h"
#include "core/limits.h"
#include "endpoints/endpoints.h"
#include "json/json.h"
#include "oauth/errors.h"
#include "server/server.h"

void kg_ep_tenant_lookup(const struct kg_req *req, struct kg_resp *resp, struct kg_str name)
{
    struct kg_tenant t;
    /* seed 003 asks for "{tenantName}.observe.appdynamics.com": the first label is the name */
    const char *dot = memchr(name.p, '.', name.n);
    struct kg_str first = dot ? (struct kg_str){name.p, (size_t)(dot - name.p)} : name;
    enum kg_rc rc = kg_tenant_resolve(req, name, &t);
    if (rc == KG_ERR_NOT_FOUND && dot) {
        rc = kg_tenant_resolve(req, first, &t);
    }
    if (rc == KG_ERR_STORE) {
        kg_problem_unavailable(resp, req);
        return;
    }
    if (rc) {
        kg_problem(resp, req, 404, 1010, "Not Found", "No tenant has this name.");
        return;
    }
    struct kg_json *b = kg_json_obj();
    kg_json_set_str(b, "tenantId", t.id);
    kg_json_set_str(b, "name", t.name);
    kg_resp_json(resp, 200, b, "public, max-age=300");
}

void kg_ep_userrealm(const struct kg_req *req, struct kg_resp *resp, struct kg_str upn)
{
    char dec[KG_MAX_USERNAME + 1];
    size_t n = 0;
    if (upn.n > KG_MAX_USERNAME || kg_form_decode(upn, dec, &n) != KG_OK) {
        kg_problem(resp, req, 400, 1006, "Bad Request", "The user name is not validly encoded.");
        return;
    }
    dec[n] = '\0';
    const char *at = strrchr(dec, '@');
    const char *host = req->srv->cfg.public_url;
    const char *sep = strstr(host, "://");
    host = sep ? sep + 3 : host;
    struct kg_json *b = kg_json_obj();
    kg_json_set_str(b, "ver", "1.0");
    kg_json_set_str(b, "account_type", "Managed");
    kg_json_set_str(b, "domain_name", at ? at + 1 : "");
    kg_json_set_str(b, "cloud_instance_name", host);
    kg_json_set_str(b, "cloud_audience_urn", "urn:federation:MicrosoftOnline");
    kg_resp_json(resp, 200, b, "no-store");
}

void kg_ep_error_doc(const struct kg_req *req, struct kg_resp *resp, struct kg_str code)
{
    int c = 0;
    for (size_t i = 0; i < code.n && i < 6; i++) {
        if (code.p[i] < '0' || code.p[i] > '9') {
            c = -1;
            break;
        }
        c = c * 10 + (code.p[i] - '0');
    }
    const struct kg_oerr_info *in = code.n && code.n <= 6 && c > 0 ? kg_oerr_by_code(c) : NULL;
    if (!in) {
        kg_problem(resp, req, 404, 404, "Not Found", "No error has this code.");
        return;
    }
    struct kg_json *b = kg_json_obj();
    kg_json_set_int(b, "code", in->code);
    kg_json_set_str(b, "error", in->error);
    kg_json_set_int(b, "status", in->status);
    kg_json_set_str(b, "description", in->description);
    kg_resp_json(resp, 200, b, "public, max-age=86400");
}
