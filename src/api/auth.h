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
#include "base/json.h"

/* Fills *p and returns true, or answers 401 (or 403 for a disabled
 * account) and returns false. check_session also confirms, with one read,
 * that the session is still open (logout and revocation take effect at
 * once on such routes). */
bool api_auth(net_req *req, api_app *app, bool check_session, identity_principal *p);

/* The request facts identity records (peer, user agent, device), with
 * strings in the request's arena. */
identity_client api_client(net_req *req);

/* api_client with its strings copied to the heap, for work that outlives
 * the request (jobs on the worker pool). */
typedef struct api_client_owned {
    identity_client c;
    char *ip, *user_agent, *device;
} api_client_owned;
void api_client_own(net_req *req, api_client_owned *o);
void api_client_owned_free(api_client_owned *o);

/* Writes "key": RFC 3339 time of us (Unix microseconds), or null for 0. */
void api_jw_time(sb_jw *w, const char *key, int64_t us);

/* The routes of magic.c and security_events.c, registered by auth.c. */
void api_magic_register(net_router *r, api_app *app);
void api_security_events_register(net_router *r, api_app *app);

/* The body tables of the auth routes, for the decoder's fuzz target. */
typedef struct api_body_table {
    const char *route;
    const api_field *fields;
    size_t nfields;
    size_t size; /* of the struct the fields decode into */
} api_body_table;
extern const api_body_table api_auth_bodies[];
/* magic.c's bodies: each one string, {email} and {token}. */
extern const api_field api_magic_link_fields[1];
extern const api_field api_magic_verify_fields[1];
extern const size_t api_auth_bodies_len;

/* Answers a sign-in's outcome: ok_status with tokens (and `user` when u is
 * not NULL), {mfa_required, mfa_token}, {magic_link_required}, 429 with
 * Retry-After for a lock, or the error as problem+json (with p's field for
 * validation errors). */
void api_respond_signin(net_req *req, api_app *app, int ok_status, identity_err e,
                        const identity_user *u, const identity_tokens *t,
                        const identity_problem *p);

/* Mails the magic link for t->magic_token to t->email (magic.c). Blocks:
 * call it on the worker pool. Failures are logged, not returned: the
 * caller's answer must not depend on them. */
void api_mail_magic_link(api_app *app, const identity_tokens *t);

/* Answers an identity error as problem+json. */
void api_respond_identity(net_req *req, identity_err e, const identity_problem *p);

#endif
