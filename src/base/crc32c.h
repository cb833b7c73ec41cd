/* crc32c.h: CRC-32C, the checksum of tsdb blocks and of the collaboration
 * journal (detects torn and flipped bits; not a defence against a forger). */
#ifndef SB_BASE_CRC32C_H
#define SB_BASE_CRC32C_H

#include "base/common.h"

/* Continues crc over p[0..n); start with 0. crc32c("123456789") is
 * 0xE3069283. */
uint32_t sb_crc32c(uint32_t crc, const void *p, size_t n);

#endif
