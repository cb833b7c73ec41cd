/*
 * vcs_page_fuzz.c: the structural page diff and merge (vcs/vcs.h) on
 * pages from untrusted bytes (commit bodies and git blobs): the input is
 * up to three JSON documents separated by NUL bytes, taken as base, ours
 * and theirs; every pair is diffed and the three merged, with the first
 * document also used as resolutions. Neither may crash, leak or loop;
 * a merge of valid trees must give a valid tree.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vcs/vcs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *doc[3] = {NULL, NULL, NULL};
    size_t start = 0, k = 0;
    for (size_t i = 0; i <= size && k < 3; i++) {
        if (i == size || data[i] == 0) {
            doc[k++] = json_loadb((const char *)data + start, i - start, 0, NULL);
            start = i + 1;
        }
    }
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            json_decref(vcs_page_diff(doc[a], doc[b]));
    json_t *conflicts = json_array();
    json_t *m = vcs_page_merge(doc[0], doc[1], doc[2], "pages/p.json", doc[0], conflicts);
    if (m) {
        json_t *check = vcs_page_diff(NULL, m);
        if (!check)
            abort(); /* a merge of valid trees is a valid tree */
        json_decref(check);
    }
    json_decref(m);
    json_decref(conflicts);
    for (int i = 0; i < 3; i++)
        json_decref(doc[i]);
    return 0;
}
