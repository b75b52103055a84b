/* GET /v1/host. */
#include <string.h>
#include "api.h"

void api_host(struct request *r)
{
	struct pv_domctl_host h;
	struct buf b = { 0 };
	long err = hv_host(&h);

	if (err)
		return hv_error(r, err, h.hdr.message);
	h.version[sizeof(h.version) - 1] = 0;
	buf_str(&b, "{\"version\":");
	buf_json_cstr(&b, h.version);
	buf_printf(&b, ",\"api_version\":1,\"abi_version\":%u,\"cpus_started\":%u,\"cpus_found\":%u,"
		   "\"memory_total\":%lu,\"memory_free\":%lu,\"uptime_seconds\":", h.abi_version, h.cpus,
		   h.cpus_found, (unsigned long)h.memory_total, (unsigned long)h.memory_free);
	buf_seconds(&b, h.uptime_ns);
	buf_printf(&b, ",\"domains_live\":%u,\"domains_max\":%u,\"control_id\":%u,\"images\":%u,"
		   "\"image_store_bytes\":%lu,\"image_store_limit\":%lu}\n", h.domains, h.domains_max, pv_domid(),
		   h.images, (unsigned long)h.image_bytes, (unsigned long)h.image_limit);
	reply_json(r, 200, &b, NULL);
	buf_free(&b);
}
