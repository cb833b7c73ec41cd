/*
 * banned.h: functions that invite overflows or hidden state are compile
 * errors (git's banned.h). Use sb_buf_appendf, snprintf, memcpy with checked
 * lengths, strtok_r replacements over sb_str instead.
 */
#ifndef SB_BASE_BANNED_H
#define SB_BASE_BANNED_H

#define SB_BANNED(func) sorry_##func##_is_banned_in_sitebase

#undef strcpy
#define strcpy(x, y) SB_BANNED(strcpy)
#undef strcat
#define strcat(x, y) SB_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) SB_BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) SB_BANNED(strncat)
#undef sprintf
#define sprintf(...) SB_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) SB_BANNED(vsprintf)
#undef gets
#define gets(x) SB_BANNED(gets)
#undef strtok
#define strtok(x, y) SB_BANNED(strtok)

#endif
