/*
 * vcs_pktline_fuzz.c: the git upload-pack request parser (vcs/pktline.c)
 * on untrusted bytes: it must neither crash nor read outside the input,
 * and what it accepts must hold at least one want and within the limits.
 */
#include <stdint.h>
#include <stdlib.h>

#include "vcs/vcs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static vcs_upload_request req;
    char err[96];
    if (vcs_upload_parse(data, size, &req, err, sizeof(err))) {
        if (req.nwants == 0 || req.nwants > VCS_UPLOAD_WANTS_MAX ||
            req.nhaves > VCS_UPLOAD_HAVES_MAX)
            abort();
    }
    return 0;
}
