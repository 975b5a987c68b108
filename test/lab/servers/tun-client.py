#!/usr/bin/env python3
"""What a tun-based VPN client (OpenVPN, most providers' apps) looks like to the system: a process holding a
tun device open and a UDP socket connected to its server. No traffic is sent (a connected UDP socket sends
nothing by itself). Usage: tun-client.py IFNAME SERVER_IP PORT; prints "ready" once set up, then waits."""
import fcntl
import os
import signal
import socket
import struct
import subprocess
import sys

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000

name, server, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
tun = os.open('/dev/net/tun', os.O_RDWR)
fcntl.ioctl(tun, TUNSETIFF, struct.pack('16sH', name.encode(), IFF_TUN | IFF_NO_PI))
subprocess.run(['ip', 'link', 'set', name, 'up'], check=True)
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.connect((server, port))
print('ready', flush=True)
signal.pause()
