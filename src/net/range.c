/*
 * range.c: one byte range out of a Range header (see range.h).
 */
#include "net/range.h"

#define POS_DIGITS_MAX 18 /* below INT64_MAX, so no sum can overflow */

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* Reads 1..18 digits at s[*i]; false if there are none or too many. */
static bool read_pos(sb_str s, size_t *i, int64_t *out)
{
    int64_t v = 0;
    size_t start = *i;
    while (*i < s.len && s.ptr[*i] >= '0' && s.ptr[*i] <= '9') {
        if (*i - start == POS_DIGITS_MAX)
            return false;
        v = v * 10 + (s.ptr[*i] - '0');
        (*i)++;
    }
    *out = v;
    return *i > start;
}

net_range_result net_range_parse(sb_str value, int64_t size, int64_t *offset, int64_t *len)
{
    sb_str unit = SB_STR("bytes=");
    /* The range unit is case-insensitive (§14.1). */
    if (value.len < unit.len || !sb_str_eq_nocase(sb_str_slice(value, 0, unit.len), unit))
        return NET_RANGE_NONE;
    size_t i = unit.len;
    while (i < value.len && is_ows(value.ptr[i]))
        i++;
    int64_t first = -1, last = -1;
    if (i < value.len && value.ptr[i] == '-') {
        i++;
        if (!read_pos(value, &i, &last)) /* suffix length */
            return NET_RANGE_NONE;
    } else {
        if (!read_pos(value, &i, &first) || i >= value.len || value.ptr[i++] != '-')
            return NET_RANGE_NONE;
        if (i < value.len && value.ptr[i] >= '0' && value.ptr[i] <= '9' &&
            (!read_pos(value, &i, &last) || last < first))
            return NET_RANGE_NONE; /* "5-2" is invalid, hence ignored (§14.1.1) */
    }
    while (i < value.len && is_ows(value.ptr[i]))
        i++;
    if (i != value.len)
        return NET_RANGE_NONE; /* several ranges, or bytes we cannot read */
    if (first < 0) {           /* bytes=-N: the last N bytes */
        if (last == 0 || size == 0)
            return NET_RANGE_UNSATISFIABLE;
        *len = last < size ? last : size;
        *offset = size - *len;
        return NET_RANGE_OK;
    }
    if (first >= size)
        return NET_RANGE_UNSATISFIABLE;
    if (last < 0 || last >= size)
        last = size - 1;
    *offset = first;
    *len = last - first + 1;
    return NET_RANGE_OK;
}
