/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nvme_ring_io: what direct mode reads of nvme_core's own request data,
 * and nvme_core's NVMe status mapping, which it does not export.
 */
#ifndef _NRIO_NVME_REQ_H
#define _NRIO_NVME_REQ_H

#include <linux/blk-mq.h>
#include <linux/blk_types.h>
#include <linux/nvme.h>
#include <linux/version.h>

/*
 * A direct-mode request's NVMe status.  nvme_core keeps it in its struct
 * nvme_request, the request's driver data (drivers/nvme/host/nvme.h, not
 * an exported header); struct nrio_nvme_request is that struct up to the
 * status, the same on 6.1 and 6.12.  nrio_ns_direct() checks the layout
 * against nvme_init_request() itself at SETUP, and only nvme_core's disks
 * get that far (nrio_disk_is_nvme_core()).  This is the one place the
 * module reads nvme_core's private data.
 */
struct nrio_nvme_request {
	struct nvme_command	*cmd;
	union nvme_result	result;
	u8			genctr;
	u8			retries;
	u8			flags;
	u16			status;	/* CQE status >> 1: SCT, SC, CRD, M, DNR */
};

static inline struct nrio_nvme_request *nrio_nvme_req(struct request *rq)
{
	return blk_mq_rq_to_pdu(rq);
}

/*
 * nvme_core's nvme_error_status() (static there), so that a direct-mode
 * request fails with the errno the bio engine's bio gets for the same
 * NVMe status (nvme_end_req() ends it with this, blk_status_to_errno()
 * makes the errno).  Only the status type and code count: DNR, More and
 * the retry delay are masked off, as there.  The kernels differ in two
 * cases: 6.1 maps 0x183 (its NVME_SC_ONCS_NOT_SUPPORTED) to NOTSUPP,
 * which 6.12 (where 0x183 is Command Size Limit Exceeded) does not, and
 * a reservation conflict is BLK_STS_NEXUS on 6.1, BLK_STS_RESV_CONFLICT
 * on 6.12 (both EBADE).
 */
static inline blk_status_t nrio_nvme_error_status(u16 status)
{
	switch (status & 0x7ff) {
	case NVME_SC_SUCCESS:
		return BLK_STS_OK;
	case NVME_SC_CAP_EXCEEDED:
		return BLK_STS_NOSPC;
	case NVME_SC_LBA_RANGE:
	case NVME_SC_CMD_INTERRUPTED:
	case NVME_SC_NS_NOT_READY:
		return BLK_STS_TARGET;
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 12, 0)
	case 0x183:
#endif
	case NVME_SC_BAD_ATTRIBUTES:
	case NVME_SC_INVALID_OPCODE:
	case NVME_SC_INVALID_FIELD:
	case NVME_SC_INVALID_NS:
		return BLK_STS_NOTSUPP;
	case NVME_SC_WRITE_FAULT:
	case NVME_SC_READ_ERROR:
	case NVME_SC_UNWRITTEN_BLOCK:
	case NVME_SC_ACCESS_DENIED:
	case NVME_SC_READ_ONLY:
	case NVME_SC_COMPARE_FAILED:
		return BLK_STS_MEDIUM;
	case NVME_SC_GUARD_CHECK:
	case NVME_SC_APPTAG_CHECK:
	case NVME_SC_REFTAG_CHECK:
	case NVME_SC_INVALID_PI:
		return BLK_STS_PROTECTION;
	case NVME_SC_RESERVATION_CONFLICT:
#ifdef BLK_STS_RESV_CONFLICT
		return BLK_STS_RESV_CONFLICT;
#else
		return BLK_STS_NEXUS;
#endif
	case NVME_SC_HOST_PATH_ERROR:
		return BLK_STS_TRANSPORT;
	case NVME_SC_ZONE_TOO_MANY_ACTIVE:
		return BLK_STS_ZONE_ACTIVE_RESOURCE;
	case NVME_SC_ZONE_TOO_MANY_OPEN:
		return BLK_STS_ZONE_OPEN_RESOURCE;
	default:
		return BLK_STS_IOERR;
	}
}

/*
 * The status a direct-mode request ended with.  The block layer's @status
 * where it says the request failed (nvme_end_req() passes the mapped NVMe
 * status; a dying queue passes its own error); otherwise the NVMe status,
 * since a request may end with status 0 although its command failed: 6.12
 * puts failed passthrough requests into a completion batch
 * (blk_mq_add_to_batch() takes them for their end_io to judge), and
 * blk_mq_end_request_batch() calls end_io with 0.  nvme_core's own
 * passthrough end_io reads nvme_req(req)->status for the same reason.
 * Such a batched failure was not retried (the batch skips
 * nvme_decide_disposition()); 6.1 batches no failed request, so there it
 * was, as the bio engine's are.
 */
static inline blk_status_t nrio_rq_status(struct request *rq,
					  blk_status_t status)
{
	if (status)
		return status;
	return nrio_nvme_error_status(READ_ONCE(nrio_nvme_req(rq)->status));
}

#endif /* _NRIO_NVME_REQ_H */
