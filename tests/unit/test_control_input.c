/* The control domain's input side on the host: strict JSON (json_in.c),
 * HTTP request heads (http.c), JSON string escaping (buf.c) and command
 * line quoting (args.c).  Every case is one a hostile client can send. */
#include <stdlib.h>
#include "harness.h"
#include "../../apps/control/args.h"
#include "../../apps/control/buf.h"
#include "../../apps/control/http.h"
#include "../../apps/control/json_in.h"

static struct jdoc doc;

static bool parses(const char *s)
{
	struct jerr err;

	return json_parse(&doc, s, strlen(s), &err);
}

static void test_json_grammar(void)
{
	static const char *const good[] = {
		"{}", " {\"a\": [1, -2, 3.5e+2, true, false, null, \"x\\u00e9\\n\"]} ",
		"{\"a\":{\"b\":{\"c\":[]}}}", "{\"a\":0}", "{\"\\ud83d\\ude00\":1}",
	};
	static const char *const bad[] = {
		"", "[]", "1", "{", "}", "{\"a\"}", "{\"a\" 1}", "{\"a\":1,}", "{\"a\":1 \"b\":2}",
		"{a:1}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":-}", "{\"a\":1e}", "{\"a\":tru}",
		"{\"a\":truex}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12g4\"}", "{\"a\":\"\x01\"}", "{} {}",
		"{\"a\":1,\"a\":2}", "{\"a\":\"\xc3\x28\"}", "{\"a\":\"\xed\xa0\x80\"}", "{\"a\":[1,]}",
		"{\"a\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}", "{\"a\":\"\\u",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		harness_check(parses(good[i]), __FILE__, __LINE__, "should parse: %s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		harness_check(!parses(bad[i]), __FILE__, __LINE__, "should not parse: %s", bad[i]);
}

static void test_json_values(void)
{
	struct jerr err;
	int64_t v;
	char s[8];
	bool b;

	CHECK(parses("{\"n\":9223372036854775807,\"m\":-9223372036854775808,\"big\":9223372036854775808,"
		     "\"f\":1.0,\"s\":\"abc\\u0000\",\"t\":\"toolongstring\",\"b\":true,\"e\":\"\\u00e9\"}"));
	CHECK(json_int(&doc, json_get(&doc, 0, "n"), "n", INT64_MIN, INT64_MAX, &v, &err) && v == INT64_MAX);
	CHECK(json_int(&doc, json_get(&doc, 0, "m"), "m", INT64_MIN, INT64_MAX, &v, &err) && v == INT64_MIN);
	CHECK(!json_int(&doc, json_get(&doc, 0, "big"), "big", INT64_MIN, INT64_MAX, &v, &err));
	CHECK_STR(err.field, "big");
	CHECK(!json_int(&doc, json_get(&doc, 0, "f"), "f", 0, 10, &v, &err));
	CHECK(!json_int(&doc, json_get(&doc, 0, "n"), "n", 0, 10, &v, &err));
	CHECK(!json_string(&doc, json_get(&doc, 0, "s"), "s", s, sizeof(s), &err));
	CHECK(!json_string(&doc, json_get(&doc, 0, "t"), "t", s, sizeof(s), &err));
	CHECK(json_string(&doc, json_get(&doc, 0, "e"), "e", s, sizeof(s), &err) && !strcmp(s, "\xc3\xa9"));
	CHECK(json_bool(&doc, json_get(&doc, 0, "b"), "b", &b, &err) && b);
	CHECK(!json_bool(&doc, json_get(&doc, 0, "n"), "n", &b, &err));
	CHECK_EQ_INT(json_get(&doc, 0, "missing"), -1);
}

static void test_json_unknown_fields(void)
{
	static const char *const allowed[] = { "a", NULL };
	struct jerr err;

	CHECK(parses("{\"a\":{\"zz\":1},\"b\\\"\":2}"));
	CHECK(!json_only(&doc, 0, allowed, "", &err));
	CHECK_STR(err.code, "unknown_field");
	CHECK(strstr(err.message, "b?") != NULL);       /* the quote is not echoed */
	CHECK(!json_only(&doc, json_get(&doc, 0, "a"), allowed, "net.0", &err));
	CHECK_STR(err.field, "net.0.zz");
}

static enum http_parse head(const char *s, struct http_req *r)
{
	return http_parse(s, strlen(s), r);
}

static void test_http_heads(void)
{
	struct http_req r;
	char big[HTTP_HEAD_MAX + 10], v[16];

	CHECK_EQ_INT(head("GET /v1/host?offset=5&follow HTTP/1.1\r\nAuthorization: Bearer x\r\n"
			  "Content-Type: Application/JSON; charset=utf-8\r\nContent-Length: 12\r\n\r\n", &r), HTTP_OK);
	CHECK_STR(r.path, "/v1/host");
	CHECK_STR(r.auth, "Bearer x");
	CHECK_STR(r.ctype, "application/json");
	CHECK(r.has_length && r.content_length == 12 && r.keep_alive);
	CHECK_STR(http_query(&r, "offset", v, sizeof(v)), "5");
	CHECK_STR(http_query(&r, "follow", v, sizeof(v)), "");
	CHECK(http_query(&r, "off", v, sizeof(v)) == NULL);
	CHECK_EQ_INT(head("GET / HTTP/1.1\r\n", &r), HTTP_INCOMPLETE);
	CHECK_EQ_INT(head("GET / HTTP/1.0\r\n\r\n", &r), HTTP_OK);
	CHECK(!r.keep_alive);
	CHECK_EQ_INT(head("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", &r), HTTP_BAD);
	CHECK_EQ_INT(head("GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", &r), HTTP_BAD);
	CHECK_EQ_INT(head("GET / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", &r), HTTP_BAD);
	CHECK_EQ_INT(head("GET / HTTP/1.1\r\n folded\r\n\r\n", &r), HTTP_BAD);
	CHECK_EQ_INT(head("GET /\x01 HTTP/1.1\r\n\r\n", &r), HTTP_BAD);
	CHECK_EQ_INT(head("GET / HTTP/1.1\nHost: x\n\n", &r), HTTP_BAD);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	CHECK_EQ_INT(head(big, &r), HTTP_TOO_LARGE);
}

static void test_escaping(void)
{
	struct buf b = { 0 };

	buf_json_str(&b, "a\"\\\n\x01\xff\xc3\xa9", 8);
	buf_add(&b, "", 1);
	CHECK_STR(b.p, "\"a\\\"\\\\\\u000a\\u0001\\u00ff\xc3\xa9\"");
	buf_free(&b);
}

static void test_args_round_trip(void)
{
	char *args[] = { "--greeting", "hi there", "", "quote\"and\\slash" }, line[256];
	struct buf b = { 0 };

	CHECK(args_join(line, sizeof(line), "name", args, 4));
	CHECK_STR(line, "name --greeting \"hi there\" \"\" \"quote\\\"and\\\\slash\"");
	args_json(&b, line);
	buf_add(&b, "", 1);
	CHECK_STR(b.p, "[\"--greeting\",\"hi there\",\"\",\"quote\\\"and\\\\slash\"]");
	CHECK(!args_join(line, 8, "name", args, 4));
	buf_free(&b);
}

int main(void)
{
	RUN(test_json_grammar);
	RUN(test_json_values);
	RUN(test_json_unknown_fields);
	RUN(test_http_heads);
	RUN(test_escaping);
	RUN(test_args_round_trip);
	return harness_report();
}
