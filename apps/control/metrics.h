/* Writing the Prometheus text format (api_metrics.c, metrics_domains.c). */
#ifndef CONTROL_METRICS_H
#define CONTROL_METRICS_H

#include "buf.h"

/* The # HELP and # TYPE lines of a family. */
void metric_family(struct buf *b, const char *name, const char *type, const char *help);
/* A label value, escaped as the format says (\\, \", \n). */
void metric_label(struct buf *b, const char *s, size_t n);
void metrics_domains(struct buf *b);
void metrics_ports(struct buf *b);

#endif
