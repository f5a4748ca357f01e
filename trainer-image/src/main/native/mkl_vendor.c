/*
 * libmpj-mkl-vendor.so: lets oneMKL choose its kernels by what the CPU can do, whoever made it.
 *
 * libtorch's CPU build carries oneMKL inside libtorch_cpu.so and calls it for FP32 matrix
 * products. Before MKL picks a kernel by the CPU's instruction sets it asks this function whether
 * the CPU is Intel's; on any other vendor's CPU it answers no and MKL runs its generic code
 * (measured on an AMD EPYC with AVX-512: 90-95 GFLOP/s one thread, against 206-218 with this
 * answer and 200-220 for OpenBLAS). libtorch_cpu.so exports the function and calls it through the
 * dynamic linker, so this definition, preloaded (LD_PRELOAD) by bin/mpj-trainer and the image's
 * mpj-trainer on a CPU that is not Intel's, is the one MKL gets. It answers the vendor question
 * only: MKL still reads the CPU's feature flags (cpuid) to choose between its AVX2 and AVX-512
 * kernels (only an AVX-512 CPU was at hand to measure). docs/concepts/mixed-precision.md ("The
 * matrix library on AMD CPUs").
 */
int mkl_serv_intel_cpu_true(void) { return 1; }
