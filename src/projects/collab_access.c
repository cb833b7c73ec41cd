/*
 * collab_access.c: who may open a project's collaborative document. The
 * document is draft content of a page or file (never its published form),
 * so the facts are an item's with published false: members by role,
 * guests when the page or file is shared with them, strangers never.
 */
#include "projects/projects_int.h"

projects_err projects_collab_access(projects_ctx *c, sb_str project_id, const char *item_kind,
                                    sb_str item, bool *can_write)
{
    projects__proj pr;
    projects_err r = projects__project(c, project_id, AUTHZ_READ, &pr);
    if (r != PROJECTS_OK)
        return r;
    pr.r.item = true;
    pr.r.published = false;
    if (item_kind && authz_effective_role(&pr.r) == AUTHZ_GUEST) {
        r = projects__shared(c, pr.id, item_kind, item, &pr.r.shared);
        if (r != PROJECTS_OK)
            return r;
    }
    r = projects__decide(c, AUTHZ_READ, &pr.r);
    if (r != PROJECTS_OK)
        return r;
    authz_decision d = authz_check(&c->caller, AUTHZ_EDIT, &pr.r);
    *can_write = d.outcome == AUTHZ_ALLOW;
    return PROJECTS_OK;
}
