#include "plugin/cmd.h"

int cmd_version(void)
{
	return cni_version_print() ? -CNI_ERR_IO : 0;
}
