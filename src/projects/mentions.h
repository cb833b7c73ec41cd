/*
 * mentions.h: finding @username mentions in the text of a comment.
 *
 * Usernames are identity's: 3..32 of [a-z0-9_-], stored lower-cased
 * (identity.h, identity_register), so a mention matches case-blind. A
 * mention is an '@' at the start of the text or after a character that is
 * neither a username character nor '@' (so "ann@example.com" mentions
 * nobody), followed by the longest run of username characters, which must
 * be 3..32 long and must not run into another '@'.
 *
 * Pure: no I/O. Who the names belong to, and whether they may read the
 * comment, is mentions.c's business (projects_int.h).
 */
#ifndef SB_PROJECTS_MENTIONS_H
#define SB_PROJECTS_MENTIONS_H

#include "base/common.h"
#include "base/str.h"

#define PROJECTS_USERNAME_MAX 32

/* Writes the distinct usernames text mentions, lower-cased, in the order
 * of their first mention, into out (at most max; later ones are left
 * out). Returns how many it wrote. */
size_t projects_mentions_parse(sb_str text, char (*out)[PROJECTS_USERNAME_MAX + 1], size_t max);

#endif
