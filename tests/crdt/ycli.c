/*
 * ycli.c: the C engine behind the CRDT differential tests: reads the pipe
 * protocol of tests/crdt/PROTOCOL.md on stdin, one command a line, and
 * answers each with one line on stdout, flushed.
 */
#include "yproto.h"

int main(void)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, stdin)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = 0;
        yproto_line(line, len);
        fwrite(answer.ptr, 1, answer.len, stdout);
        fputc('\n', stdout);
        fflush(stdout);
    }
    free(line);
    yproto_done();
    return 0;
}
