/*
 * authorize.c: the projects service's access decisions and audit log,
 * offered to other domain services that keep data of a project (vcs/), so
 * they ask the same policy and write the same log instead of copying it.
 */
#include "projects/projects_int.h"

projects_err projects_project_authorize(projects_ctx *c, sb_str id, authz_action a, bool item)
{
    projects__proj pr;
    projects_err r = projects__project(c, id, item ? AUTHZ_READ : a, &pr);
    if (r != PROJECTS_OK || !item)
        return r;
    /* an item never shared nor published: members with a role only */
    pr.r.item = true;
    return projects__decide(c, a, &pr.r);
}

projects_err projects_audit_record(projects_ctx *c, const char *project_id, const char *action,
                                   const char *target, const char *details)
{
    return projects__audit(c, project_id, action, target, details);
}
