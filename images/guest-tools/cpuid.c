/* cpuid: print hypervisor and architectural-PMU CPUID leaves as key=value lines.
 *
 * hypervisor_bit       CPUID.1:ECX[31]
 * max_basic_leaf       CPUID.0:EAX
 * hv_signature         CPUID.0x40000000 EBX,ECX,EDX as 12 chars (non-printables as '.')
 * hv_signature_hex     the same 12 bytes in hex
 * hv_max_leaf          CPUID.0x40000000:EAX
 * hv2_signature(_hex)  the same for CPUID.0x40000100 (QEMU moves the KVM leaves there
 *                      when Hyper-V enlightenments take 0x40000000)
 * pmu_version          CPUID.0xA:EAX[7:0]   (0 when leaf 0xA is beyond max_basic_leaf)
 * pmu_gp_counters      CPUID.0xA:EAX[15:8]
 * pmu_gp_width         CPUID.0xA:EAX[23:16]
 * pmu_fixed_counters   CPUID.0xA:EDX[4:0]
 * leaf_0xa_eax/ebx/ecx/edx  raw registers in hex
 * Build: gcc -static -Os -o cpuid cpuid.c
 */
#include <cpuid.h>
#include <stdio.h>
#include <string.h>

static void leaf(unsigned int l, unsigned int r[4])
{
    __cpuid_count(l, 0, r[0], r[1], r[2], r[3]);
}

/* Print "<name>=" the 12-byte hypervisor signature of leaf l (non-printables as '.'),
 * "<name>_hex=" the same bytes in hex; return the leaf's EAX. */
static unsigned int signature(const char *name, unsigned int l)
{
    unsigned int r[4], sig[3];
    unsigned char *s = (unsigned char *)sig;
    char text[13];
    int i;

    leaf(l, r);
    sig[0] = r[1]; sig[1] = r[2]; sig[2] = r[3];
    for (i = 0; i < 12; i++)
        text[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? (char)s[i] : '.';
    text[12] = '\0';
    printf("%s=%s\n%s_hex=", name, text, name);
    for (i = 0; i < 12; i++)
        printf("%02x", s[i]);
    printf("\n");
    return r[0];
}

int main(void)
{
    unsigned int r[4];

    leaf(0, r);
    unsigned int max_basic = r[0];
    leaf(1, r);
    printf("hypervisor_bit=%u\n", (r[2] >> 31) & 1);
    printf("max_basic_leaf=0x%x\n", max_basic);

    printf("hv_max_leaf=0x%x\n", signature("hv_signature", 0x40000000));
    signature("hv2_signature", 0x40000100);

    if (max_basic >= 0xa)
        leaf(0xa, r);
    else
        memset(r, 0, sizeof(r));
    printf("pmu_version=%u\n", r[0] & 0xff);
    printf("pmu_gp_counters=%u\n", (r[0] >> 8) & 0xff);
    printf("pmu_gp_width=%u\n", (r[0] >> 16) & 0xff);
    printf("pmu_fixed_counters=%u\n", r[3] & 0x1f);
    printf("leaf_0xa_eax=0x%x\nleaf_0xa_ebx=0x%x\nleaf_0xa_ecx=0x%x\nleaf_0xa_edx=0x%x\n",
           r[0], r[1], r[2], r[3]);
    return 0;
}
