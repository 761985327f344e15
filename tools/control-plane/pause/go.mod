// The pod sandbox's process (containerd's sandbox_image in the one-node cluster).
module bind9-controller.local/control-plane/pause

go 1.26.0
