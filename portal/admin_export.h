/* admin_export.h - GET /admin/audit.csv: the lab's events for an auditor. */
#ifndef PORTAL_ADMIN_EXPORT_H
#define PORTAL_ADMIN_EXPORT_H

#include "admin.h"

void admin_export_csv(struct admin *a);

#endif
