/* Prints the sizes, member offsets and flag bits of the libfuse3 structures the NexNet binding uses,
   as the installed headers define them. Compiled and run by NativeLayoutTests. */
#define FUSE_USE_VERSION 31
#define _FILE_OFFSET_BITS 64
#include <fuse.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#define S(t) printf("size %s %zu\n", #t, sizeof(struct t));
#define O(t, f) printf("offset %s.%s %zu\n", #t, #f, offsetof(struct t, f));
#define BIT(f) { struct fuse_file_info fi; memset(&fi, 0, sizeof fi); fi.f = 1; unsigned int w; memcpy(&w, (char*)&fi + 4, 4); printf("bit fuse_file_info.%s %u\n", #f, w); }
int main(void) {
  S(fuse_operations) S(fuse_file_info) S(fuse_config) S(fuse_conn_info) S(fuse_context) S(fuse_args) S(stat) S(statvfs)
  O(fuse_operations, getattr) O(fuse_operations, readdir) O(fuse_operations, init) O(fuse_operations, create) O(fuse_operations, utimens) O(fuse_operations, lseek)
  O(fuse_file_info, flags) O(fuse_file_info, fh) O(fuse_file_info, lock_owner) O(fuse_file_info, poll_events)
  BIT(direct_io) BIT(keep_cache) BIT(nonseekable) BIT(noflush)
  O(fuse_config, entry_timeout) O(fuse_config, negative_timeout) O(fuse_config, attr_timeout) O(fuse_config, hard_remove) O(fuse_config, use_ino) O(fuse_config, direct_io) O(fuse_config, kernel_cache) O(fuse_config, auto_cache) O(fuse_config, nullpath_ok)
  O(fuse_conn_info, max_write) O(fuse_conn_info, max_readahead) O(fuse_conn_info, capable) O(fuse_conn_info, want)
  O(fuse_context, fuse) O(fuse_context, uid) O(fuse_context, gid) O(fuse_context, pid) O(fuse_context, private_data) O(fuse_context, umask)
  O(fuse_args, argc) O(fuse_args, argv) O(fuse_args, allocated)
  O(stat, st_dev) O(stat, st_ino) O(stat, st_mode) O(stat, st_nlink) O(stat, st_uid) O(stat, st_gid) O(stat, st_rdev) O(stat, st_size) O(stat, st_blksize) O(stat, st_blocks) O(stat, st_atim) O(stat, st_mtim) O(stat, st_ctim)
  O(statvfs, f_bsize) O(statvfs, f_frsize) O(statvfs, f_blocks) O(statvfs, f_bfree) O(statvfs, f_bavail) O(statvfs, f_files) O(statvfs, f_ffree) O(statvfs, f_favail) O(statvfs, f_namemax)
  printf("value fuse_version %d\n", fuse_version());
  return 0;
}
