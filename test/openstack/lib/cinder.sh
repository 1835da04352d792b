# shellcheck shell=bash
# Cinder: API, scheduler and one volume service (sourced by cloud.sh).
#
# Why not LVM on a loop device: this machine's kernel has no device-mapper
# (no /dev/mapper/control, no dm_mod), so LVM can create a volume group but
# never activate a logical volume. Cinder's NFS driver needs no kernel
# support: it keeps each volume as a sparse file and each snapshot as a qcow2
# overlay (qemu-img) under the share's mount point. The share here is a
# folder of the state folder, bind-mounted where the driver expects the NFS
# share to be mounted (nfs_mount_point_base/<md5 of the share>); the driver
# sees it mounted and never calls mount.nfs (nfs-common is installed only
# because its setup checks that mount.nfs exists). The mount is the cloud's
# only change outside its processes: `stop` removes it.

VOLUME_SHARE=127.0.0.1:/shipshape-volumes

volume_share_mount_point() {
  echo "$STATE/cinder/mnt/$(echo -n "$VOLUME_SHARE" | md5sum | cut -c1-32)"
}

mount_volume_share() {
  local target
  target=$(volume_share_mount_point)
  mkdir -p "$STATE/cinder/volumes" "$target" "$STATE/cinder/locks"
  echo "$VOLUME_SHARE" >"$STATE/etc/cinder/shares"
  mountpoint -q "$target" || mount --bind "$STATE/cinder/volumes" "$target" ||
    die "could not bind-mount the volume folder on $target (needs root)"
}

# Idempotent: after a crash the mount may outlive every process.
unmount_volume_share() {
  [[ -d $STATE/cinder/mnt ]] || return 0
  local target
  for target in "$STATE"/cinder/mnt/*; do
    if mountpoint -q "$target"; then
      umount "$target" || umount -l "$target" || log "could not unmount $target"
    fi
  done
}

start_cinder() {
  local conf="$STATE/etc/cinder/cinder.conf"
  mount_volume_share
  start_oslo cinder-api cinder.cmd.api:main "$conf"
  start_oslo cinder-scheduler cinder.cmd.scheduler:main "$conf"
  start_oslo cinder-volume cinder.cmd.volume:main "$conf"
}
