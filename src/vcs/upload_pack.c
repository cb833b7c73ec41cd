/*
 * upload_pack.c: git's smart HTTP protocol for fetches and clones
 * (Documentation/gitprotocol-http.txt, "Smart Clients"; protocol version
 * 0/1, which git uses when the server does not announce version 2): the
 * ref advertisement and the pack of what the client wants. Read-only.
 *
 * Capabilities: ofs-delta (libgit2's pack builder writes offset deltas),
 * symref (HEAD is main), no side-band (the pack follows the NAK raw), no
 * multi_ack (the answer to a round without "done" is a NAK: the client
 * sends more haves, then done), no shallow clones.
 */
#include <string.h>

#include "vcs/vcs_int.h"

#define CAPS "ofs-delta symref=HEAD:refs/heads/" VCS_DEFAULT_BRANCH " agent=sitebase"

static void pkt(sb_buf *out, const char *s, size_t n)
{
    sb_buf_appendf(out, "%04zx", n + 4);
    sb_buf_append(out, s, n);
}

projects_err vcs_git_advertise(projects_ctx *c, sb_str project_id, sb_buf *out)
{
    vcs__repo r;
    projects_err pe = vcs__open(c, project_id, AUTHZ_READ, &r);
    if (pe != PROJECTS_OK)
        return pe;
    sb_buf refs = SB_BUF_INIT, line = SB_BUF_INIT;
    pe = vcs__ref_list(&r, "refs/", NULL, &refs);
    if (pe == PROJECTS_OK) {
        static const char service[] = "# service=git-upload-pack\n";
        pkt(out, service, sizeof(service) - 1);
        sb_buf_puts(out, "0000");
        git_oid head;
        bool first = true;
        if (vcs__ref_get(&r, "refs/heads/" VCS_DEFAULT_BRANCH, &head) == PROJECTS_OK) {
            char hex[GIT_OID_HEXSZ + 1];
            sb_buf_appendf(&line, "%s HEAD", git_oid_tostr(hex, sizeof(hex), &head));
            sb_buf_putc(&line, '\0');
            sb_buf_puts(&line, CAPS "\n");
            pkt(out, line.ptr, line.len);
            first = false;
        }
        /* refs is "<oid>\t<name>\n" lines */
        for (char *p = refs.ptr, *end = refs.ptr + refs.len; p && p < end;) {
            char *nl = memchr(p, '\n', (size_t)(end - p));
            char *tab = memchr(p, '\t', (size_t)(nl - p));
            sb_buf_reset(&line);
            sb_buf_append(&line, p, (size_t)(tab - p));
            sb_buf_putc(&line, ' ');
            sb_buf_append(&line, tab + 1, (size_t)(nl - tab - 1));
            if (first) {
                sb_buf_putc(&line, '\0');
                sb_buf_puts(&line, CAPS);
                first = false;
            }
            sb_buf_putc(&line, '\n');
            pkt(out, line.ptr, line.len);
            p = nl + 1;
        }
        if (first) { /* no refs: the capabilities on a null id */
            sb_buf_puts(&line, "0000000000000000000000000000000000000000 capabilities^{}");
            sb_buf_putc(&line, '\0');
            sb_buf_puts(&line, CAPS "\n");
            pkt(out, line.ptr, line.len);
        }
        sb_buf_puts(out, "0000");
    }
    sb_buf_free(&refs);
    sb_buf_free(&line);
    vcs__close(&r);
    return pe;
}

projects_err vcs_git_upload_pack(projects_ctx *c, sb_str project_id, const vcs_upload_request *req,
                                 sb_buf *out)
{
    vcs__repo r;
    projects_err pe = vcs__open(c, project_id, AUTHZ_READ, &r);
    if (pe != PROJECTS_OK)
        return pe;
    git_revwalk *walk = NULL;
    git_packbuilder *pb = NULL;
    git_buf pack = GIT_BUF_INIT;
    int rc = git_revwalk_new(&walk, r.git);
    for (size_t i = 0; rc == 0 && i < req->nwants; i++) {
        git_oid oid;
        git_commit *cm;
        git_oid_fromraw(&oid, req->wants[i]);
        /* a want must be a commit of this project (its objects only) */
        if (git_commit_lookup(&cm, r.git, &oid) < 0) {
            pe = PROJECTS_INVALID;
            break;
        }
        git_commit_free(cm);
        rc = git_revwalk_push(walk, &oid);
    }
    for (size_t i = 0; pe == PROJECTS_OK && rc == 0 && i < req->nhaves; i++) {
        git_oid oid;
        git_commit *cm;
        git_oid_fromraw(&oid, req->haves[i]);
        if (git_commit_lookup(&cm, r.git, &oid) < 0)
            continue; /* a commit the client has and we do not: no help */
        git_commit_free(cm);
        rc = git_revwalk_hide(walk, &oid);
    }
    sb_buf_puts(out, "0008NAK\n");
    sb_buf key = SB_BUF_INIT;
    if (pe == PROJECTS_OK && rc == 0 && req->done) {
        /* after the checks above: a kept pack is served only to whom may read it */
        vcs__pack_key(&key, r.project_id, req);
        if (!vcs__pack_cache_get(&key, out) && (rc = git_packbuilder_new(&pb, r.git)) == 0 &&
            (rc = git_packbuilder_insert_walk(pb, walk)) == 0 &&
            (rc = git_packbuilder_write_buf(&pack, pb)) == 0) {
            sb_buf_append(out, pack.ptr, pack.size);
            vcs__pack_cache_put(&key, pack.ptr, pack.size);
        }
    }
    sb_buf_free(&key);
    if (pe == PROJECTS_OK && rc < 0)
        pe = vcs__git_fail("packing objects", rc);
    git_buf_dispose(&pack);
    git_packbuilder_free(pb);
    git_revwalk_free(walk);
    vcs__close(&r);
    return pe;
}
