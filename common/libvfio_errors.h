/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Names of the io.libvfio errors, as declared in the .varlink files. Every one
 * carries a "message" parameter: a sentence that says what to do.
 */
#pragma once

#define LIBVFIO_ERROR_MESSAGE_TOO_LARGE "io.libvfio.Manager.MessageTooLarge"
#define LIBVFIO_ERROR_TOO_MANY_CONNECTIONS "io.libvfio.Manager.TooManyConnections"
#define LIBVFIO_ERROR_TIMEOUT "io.libvfio.Manager.Timeout"
#define LIBVFIO_ERROR_PROTOCOL "io.libvfio.Manager.ProtocolError"
#define LIBVFIO_ERROR_INTERNAL "io.libvfio.Manager.InternalError"
#define LIBVFIO_ERROR_NO_SUCH_GPU "io.libvfio.Host.NoSuchGPU"
