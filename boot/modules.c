/* Guest images: the loader only reads them into memory the hypervisor
 * keeps; parsing and checking them is the hypervisor's job. */
#include "loader.h"

static bool load_guest(const struct manifest_guest *g, UINT32 index,
		       const char *dir, struct boot_module *mod)
{
	struct file_buf f;
	EFI_STATUS st;

	if (!path_resolve(dir, g->image, mod->path, sizeof(mod->path))) {
		warn(L"guest %a skipped: bad image path %a", g->name,
		     g->image);
		return false;
	}
	st = file_read(mod->path, BOOT_MEM_PARAVANE_KEEP, &f);
	if (EFI_ERROR(st)) {
		warn(L"guest %a skipped: cannot read image %a: %r", g->name,
		     mod->path, st);
		return false;
	}
	mod->phys = f.phys;
	mod->size = f.size;
	mod->guest_index = index;
	mod->kind = BOOT_MODULE_IMAGE;
	info(L"guest %a: %a, %ld KiB at 0x%lx", g->name, mod->path,
	     (f.size + 1023) >> 10, f.phys);
	return true;
}

/* mods has room for MANIFEST_MAX_GUESTS entries. */
void load_guests(const struct manifest *m, const char *manifest_dir,
		 struct boot_info *bi, struct boot_module *mods)
{
	UINT32 i;

	for (i = 0; i < m->guest_count && i < MANIFEST_MAX_GUESTS; i++) {
		struct boot_module *mod = &mods[bi->module_count];

		if (!m->guest[i].valid)
			continue;
		if (load_guest(&m->guest[i], i, manifest_dir, mod)) {
			bi->module_count++;
		} else {
			ZeroMem(mod, sizeof(*mod));
			bi->loader_errors++;
		}
	}
}
