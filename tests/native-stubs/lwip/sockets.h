/* ESP-IDF <lwip/sockets.h> offers the BSD socket API; on the build machine the C library's headers stand in. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>
