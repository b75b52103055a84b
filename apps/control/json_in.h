/* Strict JSON input for request bodies (docs/api.md "Strict input"): one
 * object, valid UTF-8, no duplicate keys, integers that are integers.
 * A small recursive-descent parser makes a flat token array (RFC 8259
 * grammar exactly: jsmn and friends accept missing commas and colons); the
 * accessors give typed, range-checked values with the field's name in
 * every error. */
#ifndef CONTROL_JSON_IN_H
#define CONTROL_JSON_IN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_TOKENS_MAX 512
#define JSON_DEPTH_MAX  16

enum jtype { J_OBJECT = 1, J_ARRAY, J_STRING, J_PRIMITIVE };

struct jtok {
	enum jtype type;
	int start, end;            /* bytes of text (a string's without quotes) */
	int size;                  /* members of an object, elements of an array */
	int next;                  /* the token after this one's whole subtree */
};

struct jdoc {
	const char *text;
	int ntok;
	struct jtok tok[JSON_TOKENS_MAX];
};

/* What went wrong, for a 400: code ("bad_json", "missing_field",
 * "bad_field", "unknown_field"), the field path and a message. */
struct jerr {
	const char *code;
	char field[64];
	char message[200];
};

/* Parse body (len bytes) into doc; the root must be an object. */
bool json_parse(struct jdoc *doc, const char *body, size_t len, struct jerr *err);

/* Objects: the token index of key's value in object obj, or -1.  Keys
 * outside allowed (a NULL-terminated list) are an unknown_field error. */
int json_get(const struct jdoc *doc, int obj, const char *key);
bool json_only(const struct jdoc *doc, int obj, const char *const *allowed, const char *path,
	       struct jerr *err);

/* Typed values; path names the field in errors. */
bool json_is_null(const struct jdoc *doc, int t);
bool json_int(const struct jdoc *doc, int t, const char *path, int64_t min, int64_t max,
	      int64_t *out, struct jerr *err);
bool json_bool(const struct jdoc *doc, int t, const char *path, bool *out, struct jerr *err);
/* A string without NUL bytes, unescaped into out (n bytes with the NUL). */
bool json_string(const struct jdoc *doc, int t, const char *path, char *out, size_t n,
		 struct jerr *err);
/* An array: its element count, or -1 (a bad_field error). */
int json_array(const struct jdoc *doc, int t, const char *path, struct jerr *err);
/* The token index of element i of array arr. */
int json_elem(const struct jdoc *doc, int arr, int i);
bool json_is_object(const struct jdoc *doc, int t, const char *path, struct jerr *err);

bool json_fail(struct jerr *err, const char *code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
