// Package image stores images as stacks of layers under
// /var/lib/minidocker (images/<id>.json, layers/<id>/), imports and
// exports `docker export` tarballs, commits a container's upper layer as a
// new layer, and builds the overlayfs (联合文件系统) mount options that stack
// the layers with copy-on-write (写时复制). Chapter: docs/05-overlay.md.
package image
