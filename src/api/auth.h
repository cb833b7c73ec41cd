/*
 * auth.h: who is calling. Routes that need a signed-in user call
 * api_auth first: it takes the access token from `Authorization: Bearer`
 * or, for browsers, the sb_session cookie; a cookie-authenticated request
 * that changes state must also carry the session's X-CSRF-Token.
 */
#ifndef SB_API_AUTH_H
#define SB_API_AUTH_H

#include "api/app.h"
#include "api/decode.h"

/* Fills *p and returns true, or answers 401 (or 403 for a disabled
 * account) and returns false. check_session also confirms, with one read,
 * that the session is still open (logout and revocation take effect at
 * once on such routes). */
bool api_auth(net_req *req, api_app *app, bool check_session, identity_principal *p);

/* The request facts identity records (peer, user agent, device), with
 * strings in the request's arena. */
identity_client api_client(net_req *req);

/* The body tables of the auth routes, for the decoder's fuzz target. */
typedef struct api_body_table {
    const char *route;
    const api_field *fields;
    size_t nfields;
    size_t size; /* of the struct the fields decode into */
} api_body_table;
extern const api_body_table api_auth_bodies[];
extern const size_t api_auth_bodies_len;

/* Answers an identity error as problem+json. */
void api_respond_identity(net_req *req, identity_err e, const identity_problem *p);

#endif
