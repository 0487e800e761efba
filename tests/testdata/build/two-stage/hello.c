#include <stdio.h>

int main(void)
{
	printf("hello from a static binary, compiled in stage 1\n");
	return 0;
}
