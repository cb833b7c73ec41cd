/*
 * openapi.c: GET /api/openapi.json, the OpenAPI 3.1 description of every
 * route (src/api/openapi.json, compiled in). tests/integration/openapi.sh
 * checks each real answer against it and that it lists exactly the routes
 * the server registers, so it cannot drift from the code.
 */
#include <stdio.h>
#include <string.h>

#include "api/app.h"
#include "crypto/crypto.h"

extern const char api_openapi_json[];
extern const size_t api_openapi_json_len;

static char etag[2 + 32 + 1]; /* "\"" + 128 bits of SHA-256 in hex + "\"" */

static void openapi(net_req *req, void *ctx)
{
    net_header_static(req, "etag", etag);
    net_header_static(req, "cache-control", "public, max-age=300");
    sb_str inm;
    if (net_req_header(req, "if-none-match", &inm) && sb_str_eq(inm, sb_str_c(etag))) {
        net_respond(req, 304, NULL, "", 0);
        return;
    }
    net_respond(req, 200, "application/json; charset=utf-8", api_openapi_json,
                api_openapi_json_len);
}

void api_openapi_register(net_router *r, api_app *app)
{
    uint8_t h[CRYPTO_SHA256_LEN];
    crypto_sha256(api_openapi_json, api_openapi_json_len, h);
    char hex[2 * CRYPTO_SHA256_LEN + 1];
    sb_hex_encode(h, sizeof(h), hex);
    snprintf(etag, sizeof(etag), "\"%.32s\"", hex);
    net_router_add(r, NET_GET, "/api/openapi.json", openapi, app, 0);
}
