/* SPDX-License-Identifier: GPL-2.0 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM asi

#if !defined(_TRACE_ASI_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_ASI_H

#include <linux/tracepoint.h>

/*
 * Only transitions made where tracing is allowed are traced: asi_enter(),
 * asi_exit() and ASI faults. Those made by the entry code and the idle
 * loop (where RCU may not be watching) are counted in debugfs instead.
 */
TRACE_EVENT(asi_enter,
	    TP_PROTO(const char *class, unsigned int class_id),
	    TP_ARGS(class, class_id),
	    TP_STRUCT__entry(__string(class, class)
			     __field(unsigned int, class_id)),
	    TP_fast_assign(__assign_str(class);
			   __entry->class_id = class_id;),
	    TP_printk("class=%s id=%u", __get_str(class), __entry->class_id)
);

TRACE_EVENT(asi_exit,
	    TP_PROTO(const char *class, unsigned int reason),
	    TP_ARGS(class, reason),
	    TP_STRUCT__entry(__string(class, class)
			     __field(unsigned int, reason)),
	    TP_fast_assign(__assign_str(class);
			   __entry->reason = reason;),
	    TP_printk("class=%s reason=%s", __get_str(class),
		      __print_symbolic(__entry->reason,
				       { 0, "explicit" }, { 1, "page_fault" },
				       { 2, "interrupt" }, { 3, "exception" },
				       { 4, "nmi" }, { 5, "context_switch" }))
);

#endif /* _TRACE_ASI_H */

#include <trace/define_trace.h>
