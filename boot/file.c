/* Reading whole files from the ESP that the loader itself was loaded from.
 *
 * Paths inside the loader are manifest style: ASCII, absolute, '/'
 * separated ("/paravane/hello.elf").  They become "\paravane\hello.elf"
 * only at the UEFI boundary.
 */
#include "loader.h"

/* Some USB mass-storage stacks fail on huge single reads. */
#define READ_CHUNK	(1ULL << 20)

static EFI_FILE_HANDLE root;

EFI_STATUS file_init(EFI_HANDLE image)
{
	EFI_SIMPLE_FILE_SYSTEM_PROTOCOL *fs;
	EFI_LOADED_IMAGE *li;
	EFI_STATUS st;

	st = BS->HandleProtocol(image, &LoadedImageProtocol, (void **)&li);
	if (EFI_ERROR(st)) {
		error(L"no LoadedImage protocol: %r", st);
		return st;
	}
	st = BS->HandleProtocol(li->DeviceHandle, &FileSystemProtocol,
				(void **)&fs);
	if (EFI_ERROR(st)) {
		error(L"boot device has no file system: %r", st);
		return st;
	}
	st = fs->OpenVolume(fs, &root);
	if (EFI_ERROR(st))
		error(L"cannot open the boot volume: %r", st);
	return st;
}

static void path_to_efi(const char *path, CHAR16 *out, UINTN n)
{
	UINTN i;

	for (i = 0; path[i] && i + 1 < n; i++)
		out[i] = path[i] == '/' ? L'\\' : (CHAR16)(UINT8)path[i];
	out[i] = 0;
}

static EFI_STATUS read_all(EFI_FILE_HANDLE f, UINT8 *buf, UINT64 size)
{
	UINT64 done = 0;
	UINTN n;
	EFI_STATUS st;

	while (done < size) {
		n = size - done < READ_CHUNK ? size - done : READ_CHUNK;
		st = f->Read(f, &n, buf + done);
		if (EFI_ERROR(st))
			return st;
		if (n == 0)
			return EFI_END_OF_FILE; /* shorter than it said */
		done += n;
	}
	return EFI_SUCCESS;
}

/* Read the whole file into fresh pages of the given type. */
EFI_STATUS file_read(const char *path, EFI_MEMORY_TYPE type,
		     struct file_buf *out)
{
	CHAR16 wpath[MANIFEST_PATH_MAX + 16];
	EFI_FILE_HANDLE f;
	EFI_FILE_INFO *fi;
	EFI_STATUS st;

	path_to_efi(path, wpath, ARRAY_SIZE(wpath));
	st = root->Open(root, &f, wpath, EFI_FILE_MODE_READ, 0);
	if (EFI_ERROR(st))
		return st;

	fi = LibFileInfo(f);
	if (!fi) {
		st = EFI_DEVICE_ERROR;
		goto out;
	}
	if (fi->Attribute & EFI_FILE_DIRECTORY) {
		st = EFI_INVALID_PARAMETER;
		FreePool(fi);
		goto out;
	}
	out->size = fi->FileSize;
	FreePool(fi);

	st = alloc_pages(out->size, type, &out->phys);
	if (EFI_ERROR(st))
		goto out;
	st = read_all(f, (UINT8 *)out->phys, out->size);
	if (EFI_ERROR(st))
		free_pages(out->phys, out->size);
out:
	f->Close(f);
	return st;
}
