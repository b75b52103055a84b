/* Error numbers inside the hypervisor: the guest ABI's (public/errno.h)
 * so that a hypercall can return them unchanged. */
#ifndef HV_ERRNO_H
#define HV_ERRNO_H

#include <public/errno.h>

#define ENOMEM PV_ENOMEM
#define EINVAL PV_EINVAL
#define EFAULT PV_EFAULT
#define ENOSYS PV_ENOSYS
#define EPERM  PV_EPERM
#define ENOENT PV_ENOENT
#define EAGAIN PV_EAGAIN
#define E2BIG  PV_E2BIG
#define ENOSPC PV_ENOSPC
#define EEXIST PV_EEXIST
#define ENOEXEC PV_ENOEXEC
#define EBUSY  PV_EBUSY
#define ERANGE PV_ERANGE
#define ENODEV PV_ENODEV
#define EIO    PV_EIO
#define ETIMEDOUT 110       /* hypervisor-internal (disk_*_sync): never returned to a guest */

#endif
