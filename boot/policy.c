/* What the manifest's errors mean for this boot.
 *
 * Fatal: an error in [hypervisor], outside any section or about the whole
 * file; a file without any section; more errors than the parser stores
 * (we could not tell where the rest are).
 * Not fatal: an error in a guest section (that guest is skipped, the others
 * boot) or in an unknown section.
 *
 * The parser reports errors by line, so we find the section of a line by
 * scanning the text for "[...]" headers the same way a reader would.
 */
#include "loader.h"

enum section { SEC_NONE, SEC_HV, SEC_GUEST, SEC_OTHER };

struct section_hit {
	enum section kind;
	UINT32 line;	/* header line, 0 with SEC_NONE */
};

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

/* w, then anything but a name character: "[hypervisor" without its ']'
 * is still the hypervisor's (broken) section. */
static bool word_at(const char *p, const char *end, const char *w)
{
	for (; *w; w++, p++)
		if (p >= end || *p != *w)
			return false;
	return p >= end || !name_char(*p);
}

/* SEC_NONE if the line at p is not a section header. */
static enum section header_kind(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p >= end || *p != '[')
		return SEC_NONE;
	for (p++; p < end && (*p == ' ' || *p == '\t'); p++)
		;
	if (word_at(p, end, "hypervisor"))
		return SEC_HV;
	if (word_at(p, end, "guest"))
		return SEC_GUEST;
	return SEC_OTHER;
}

static const char *next_line(const char *p, const char *end)
{
	while (p < end && *p != '\n')
		p++;
	return p < end ? p + 1 : end;
}

/* The last section header at or before line (1-based); line 0 = count. */
static struct section_hit section_of(const char *text, UINT64 len,
				     UINT32 line, UINT32 *count)
{
	struct section_hit hit = { SEC_NONE, 0 };
	const char *p = text, *end = text + len;
	UINT32 n;

	*count = 0;
	if (len >= 3 && (UINT8)p[0] == 0xef && (UINT8)p[1] == 0xbb &&
	    (UINT8)p[2] == 0xbf)
		p += 3;	/* UTF-8 byte order mark, as the parser allows */
	for (n = 1; p < end && (line == 0 || n <= line); n++) {
		enum section k = header_kind(p, end);

		if (k != SEC_NONE) {
			hit.kind = k;
			hit.line = n;
			(*count)++;
		}
		p = next_line(p, end);
	}
	return hit;
}

static bool error_is_fatal(const struct manifest *m, UINT32 i,
			   const char *text, UINT64 len)
{
	struct section_hit h;
	UINT32 count;

	if (m->error[i].line == 0)
		return true;
	h = section_of(text, len, m->error[i].line, &count);
	return h.kind == SEC_NONE || h.kind == SEC_HV;
}

static void print_errors(const struct manifest *m, const char *text,
			 UINT64 len, bool *fatal)
{
	char buf[MANIFEST_FILE_MAX + MANIFEST_KEY_MAX + MANIFEST_MSG_MAX + 16];
	UINT32 i, stored;

	stored = manifest_errors_stored(m);
	for (i = 0; i < stored; i++) {
		manifest_format_error(m, i, buf, sizeof(buf));
		if (error_is_fatal(m, i, text, len)) {
			error(L"%a", buf);
			*fatal = true;
		} else {
			warn(L"%a", buf);
		}
	}
	if (m->error_count > stored) {
		error(L"%a: %d errors, only %d shown", m->file,
		      m->error_count, stored);
		*fatal = true;
	}
}

/* The first stored error inside the guest's section, for the skip line. */
static INT32 first_guest_error(const struct manifest *m,
			       const struct manifest_guest *g,
			       const char *text, UINT64 len)
{
	struct section_hit h;
	UINT32 i, count;

	for (i = 0; i < manifest_errors_stored(m); i++) {
		if (m->error[i].line == 0)
			continue;
		h = section_of(text, len, m->error[i].line, &count);
		if (h.line == g->line)
			return (INT32)i;
	}
	return -1;
}

static UINT32 report_skipped(const struct manifest *m, const char *text,
			     UINT64 len)
{
	UINT32 i, skipped = 0;
	INT32 e;

	for (i = 0; i < m->guest_count; i++) {
		const struct manifest_guest *g = &m->guest[i];

		if (g->valid)
			continue;
		skipped++;
		e = first_guest_error(m, g, text, len);
		if (e >= 0 && m->error[e].key[0])
			warn(L"guest %a skipped: line %d: %a: %a", g->name,
			     m->error[e].line, m->error[e].key,
			     m->error[e].msg);
		else if (e >= 0)
			warn(L"guest %a skipped: line %d: %a", g->name,
			     m->error[e].line, m->error[e].msg);
		else
			warn(L"guest %a skipped: errors in its section "
			     "(line %d)", g->name, g->line);
	}
	return skipped;
}

/*
 * Print every error with the right severity.  Returns an error status if
 * the boot must stop; *skipped counts the guests that will not boot.
 */
EFI_STATUS manifest_check(const struct manifest *m, const char *text,
			  UINT64 len, UINT32 *skipped)
{
	bool fatal = false;
	UINT32 sections;

	print_errors(m, text, len, &fatal);
	section_of(text, len, 0, &sections);
	if (sections == 0 && !fatal) {	/* the parser says so too */
		error(L"%a: no sections: nothing to boot", m->file);
		fatal = true;
	}
	if (fatal) {
		error(L"%a: not booting (errors above)", m->file);
		return EFI_LOAD_ERROR;
	}
	*skipped = report_skipped(m, text, len);
	if (m->guest_count == 0)
		info(L"%a: no guests; the hypervisor starts alone", m->file);
	else if (manifest_valid_guests(m) == 0)
		warn(L"%a: no valid guest; the hypervisor starts alone",
		     m->file);
	return EFI_SUCCESS;
}
