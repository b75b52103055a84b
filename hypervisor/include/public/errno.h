/* Paravane guest ABI: error numbers.  A hypercall returns a negative one of
 * these on failure.  Values follow Linux/newlib so a libos can pass them
 * straight to errno. */
#ifndef PARAVANE_PUBLIC_ERRNO_H
#define PARAVANE_PUBLIC_ERRNO_H

#define PV_EPERM    1   /* not allowed for this domain */
#define PV_ENOENT   2   /* no such object (domain, port, device) */
#define PV_EIO      5   /* device I/O error */
#define PV_E2BIG    7   /* argument too large */
#define PV_ENOEXEC  8   /* image not runnable */
#define PV_EAGAIN  11   /* try again (ring full, rate limited) */
#define PV_ENOMEM  12   /* out of memory */
#define PV_EFAULT  14   /* bad guest pointer */
#define PV_EBUSY   16   /* resource busy */
#define PV_EEXIST  17   /* already exists */
#define PV_ENODEV  19   /* no such device */
#define PV_EINVAL  22   /* invalid argument */
#define PV_ENOSPC  28   /* no space left */
#define PV_ERANGE  34   /* out of range */
#define PV_ENOSYS  38   /* unknown hypercall number */

#endif
