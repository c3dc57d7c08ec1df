/* perfprobe: count CPU cycles and instructions of a small loop with perf_event_open.
 *
 * Prints two lines, always exits 0:
 *   cycles=<n>           or  cycles=unsupported errno=<ENAME>
 *   instructions=<n>     or  instructions=unsupported errno=<ENAME>
 * Build: gcc -static -Os -o perfprobe perfprobe.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile uint64_t sink;

static void probe(const char *name, uint64_t config)
{
    struct perf_event_attr attr;
    uint64_t count = 0;
    int fd, i;

    memset(&attr, 0, sizeof(attr));
    attr.size = sizeof(attr);
    attr.type = PERF_TYPE_HARDWARE;
    attr.config = config;
    attr.disabled = 1;
    attr.exclude_kernel = 1;
    attr.exclude_hv = 1;
    fd = (int)syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
    if (fd < 0) {
        const char *e = strerrorname_np(errno);
        printf("%s=unsupported errno=%s\n", name, e ? e : "UNKNOWN");
        return;
    }
    ioctl(fd, PERF_EVENT_IOC_RESET, 0);
    ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
    for (i = 0; i < 1000000; i++)
        sink += (uint64_t)i * 7;
    ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
    if (read(fd, &count, sizeof(count)) != sizeof(count)) {
        const char *e = strerrorname_np(errno);
        printf("%s=unsupported errno=%s\n", name, e ? e : "UNKNOWN");
    } else {
        printf("%s=%llu\n", name, (unsigned long long)count);
    }
    close(fd);
}

int main(void)
{
    probe("cycles", PERF_COUNT_HW_CPU_CYCLES);
    probe("instructions", PERF_COUNT_HW_INSTRUCTIONS);
    return 0;
}
