/* version.h — podwire's release version, the one every binary's --version prints. */
#ifndef PODWIRE_VERSION_H
#define PODWIRE_VERSION_H

#define PODWIRE_VERSION "0.1.0"

#endif
