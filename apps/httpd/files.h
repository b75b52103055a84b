/* httpd --root DIR: GET /files/PATH from DIR (files.c). */
#ifndef HTTPD_FILES_H
#define HTTPD_FILES_H

#include <stddef.h>
#include <stdint.h>

#define FILES_PREFIX "/files/"

struct files_answer {
	char path[512];
	const char *type;
	int fd;                /* >= 0: a file of size bytes to stream */
	uint64_t size;
	size_t body_len;       /* else: a listing of body_len bytes in buf */
};

void files_set_root(const char *dir);
int files_enabled(void);
const char *files_type(const char *path);
/* The HTTP status for url (which starts with FILES_PREFIX), and *a. */
int files_lookup(const char *url, struct files_answer *a, char *buf, size_t n);

#endif
